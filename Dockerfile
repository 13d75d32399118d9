FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY workers ./workers
COPY migrations ./migrations
# Where the built-in simulator keeps its cards (npm start without OEN_API_TOKEN).
RUN mkdir -p /app/.data && chown node:node /app/.data
EXPOSE 3000
USER node
CMD ["node", "src/main.ts"]
