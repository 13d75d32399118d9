/** The portal's own small stylesheet: readable on a phone, no framework, served from /portal/assets. */
export const PORTAL_CSS = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI","PingFang TC","Noto Sans TC","WenQuanYi Zen Hei",sans-serif;font-size:16px;line-height:1.6;color:#1f2328;background:#f5f6f8}
header{background:#fff;border-bottom:1px solid #d8dde3}
.bar{max-width:44rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between}
.brand{font-weight:600}
.bar form{margin:0}
main{max-width:44rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.3;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
a{color:#0b57d0}
.card{background:#fff;border:1px solid #d8dde3;border-radius:10px;padding:1rem;margin:0 0 1rem}
.card h2{margin-top:0}
dl{display:grid;grid-template-columns:minmax(7rem,auto) 1fr;gap:.35rem 1rem;margin:0}
dt{color:#59636e}
dd{margin:0}
.badge{display:inline-block;padding:0 .55rem;border-radius:999px;font-size:.9rem;background:#e7ecf2}
.badge.active,.badge.trialing{background:#dff3e4;color:#11602b}
.badge.past_due,.badge.unpaid{background:#fde2e1;color:#8b1a14}
.badge.canceled{background:#eceff1;color:#4a545e}
.notice{border-radius:10px;padding:.75rem 1rem;margin:0 0 1rem;background:#e8f1fe;border:1px solid #b6d0f7}
.alert{border-radius:10px;padding:.75rem 1rem;margin:0 0 1rem;background:#fff1f0;border:1px solid #f3b8b4}
.error{color:#8b1a14;font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;margin-top:1rem}
.actions form{margin:0}
button,.button{display:inline-block;font:inherit;font-size:1rem;padding:.6rem 1.1rem;min-height:44px;border-radius:8px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;text-decoration:none;cursor:pointer}
button.secondary,.button.secondary{background:#fff;color:#0b57d0}
button.danger{background:#b3261e;border-color:#b3261e}
button.link{background:none;border:none;color:#0b57d0;padding:.2rem .4rem;min-height:0;text-decoration:underline}
label{display:block;margin:.8rem 0 .25rem;font-weight:600}
input[type=text],input[type=email],select{width:100%;font:inherit;padding:.55rem .6rem;border:1px solid #aab4bf;border-radius:8px;background:#fff}
fieldset{border:0;padding:0;margin:0}
.hint{color:#59636e;font-size:.9rem;margin:.25rem 0 0}
.table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d8dde3;border-radius:10px;overflow:hidden}
.table th,.table td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid #eceff1;vertical-align:top}
.table th{background:#f0f2f5;font-weight:600;font-size:.9rem}
.plans{list-style:none;padding:0;margin:0}
@media (max-width:36rem){
  .table thead{display:none}
  .table,.table tbody,.table tr,.table td{display:block;width:100%}
  .table tr{border-bottom:1px solid #d8dde3;padding:.4rem 0}
  .table td{border:0;padding:.15rem .6rem}
  .table td::before{content:attr(data-label);display:inline-block;min-width:6.5rem;color:#59636e}
  dl{grid-template-columns:1fr}
  dt{margin-top:.35rem}
}
`;
