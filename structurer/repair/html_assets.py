"""The HTML report's inline stylesheet and script (no external asset: the page is one file)."""

CSS = """
*{box-sizing:border-box}
html,body{margin:0;height:100%;font:13px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Noto Sans SC",
 "WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;color:#1d2330;background:#f4f5f7}
header{height:64px;padding:8px 14px;background:#1f2a44;color:#fff;display:flex;gap:20px;align-items:center;overflow:hidden}
header>div:first-child{min-width:0;flex:1 1 auto}
header h1{font-size:16px;margin:0;font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
header .meta{font-size:12px;opacity:.85;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
header .counts{flex:0 0 auto;max-width:40%}
header .counts span{display:inline-block;margin-right:10px;padding:1px 8px;border-radius:10px;background:#34405e}
header .counts .fail{background:#b3261e}
main{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);height:calc(100% - 64px)}
#left,#right{overflow:auto;height:100%}
#left{background:#fff;border-right:1px solid #d5d9e0}
pre#source{margin:0;padding:8px 12px 40px 0;font:12px/1.55 ui-monospace,"DejaVu Sans Mono","Noto Sans Mono CJK SC",
 monospace;white-space:pre;tab-size:4}
.ln::before{content:attr(data-n);display:inline-block;width:4.2em;padding-right:.8em;margin-right:.6em;text-align:right;
 color:#9aa1ad;border-right:1px solid #e3e6eb;user-select:none}
mark.v{background:#ffe38a;color:inherit;border-radius:2px;cursor:pointer;box-shadow:inset 0 -1px 0 #d9b43c}
mark.v.nar{background:#c9e7ff;box-shadow:inset 0 -1px 0 #6aa9d8}
mark.v.multi{background:#fff3c4;box-shadow:none;outline:1px dotted #d9b43c}
mark.v.suspect{background:#e5e5e5;box-shadow:inset 0 -1px 0 #999}
mark.v.fail{background:#ffc9c4;box-shadow:inset 0 -2px 0 #d93025}
mark.v.diag{background:#ff8a80;box-shadow:inset 0 -2px 0 #a50e0e}
mark.v.sel,td.v.sel{outline:2px solid #1a73e8;outline-offset:1px}
mark.v.flash,td.v.flash{animation:flash 1.2s ease-out 1}
@keyframes flash{0%{background:#1a73e8;color:#fff}100%{}}
.ln.flash::before{background:#1a73e8;color:#fff}
nav.tabs{position:sticky;top:0;z-index:2;background:#e9ecf1;border-bottom:1px solid #d5d9e0;padding:6px 10px 0}
nav.tabs button{border:1px solid #c8cdd6;border-bottom:none;background:#f4f5f7;padding:5px 12px;margin-right:4px;
 border-radius:6px 6px 0 0;cursor:pointer;font:inherit}
nav.tabs button.on{background:#fff;font-weight:600}
.pane{display:none;padding:10px 14px 40px}
.pane.on{display:block}
.finding{background:#fff;border:1px solid #d5d9e0;border-left:5px solid #999;border-radius:4px;padding:8px 10px;margin:0 0 10px}
.finding.sev-error{border-left-color:#d93025}
.finding.sev-warning{border-left-color:#f29900}
.finding ul{margin:4px 0;padding-left:18px}
.inst,.dim{color:#6b7280;font-size:12px}
.calc{margin-top:3px}
.diag{margin-top:4px;padding:3px 6px;background:#fdecea;border-radius:3px}
.ok{color:#188038;font-weight:600}
section.tbl{background:#fff;border:1px solid #d5d9e0;border-radius:4px;margin:0 0 12px;padding:6px 8px}
section.tbl h3{margin:2px 0 6px;font-size:13px}
section.tbl h3 .title{font-weight:400}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #e3e6eb;padding:2px 6px;text-align:right;white-space:nowrap}
th{background:#f4f5f7;font-weight:600}
td.label{text-align:left;max-width:16em;overflow:hidden;text-overflow:ellipsis}
td.v{background:#fffbe6}
td.v.fail{background:#ffe1de}
td.v.diag{background:#ff8a80}
td.v.nar{background:#e8f4ff}
td.unreadable{color:#b3261e;font-style:italic}
tr.suspect td,tr.suspect th{color:#888;background:#f1f1f1}
a{color:#1a56c4;text-decoration:none}
a:hover{text-decoration:underline}
#info{position:fixed;right:12px;bottom:12px;max-width:46%;background:#1f2a44;color:#fff;padding:6px 10px;border-radius:6px;
 font-size:12px;display:none;white-space:pre-line;z-index:5}
.legend{font-size:11px;opacity:.9;flex:0 1 auto;max-width:26%}
.legend i{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px;vertical-align:-1px;border-radius:2px}
body.paged main{grid-template-columns:minmax(0,3fr) minmax(0,2fr)}
body.paged #left{background:#525a66}
#pages{padding:10px 12px 40px}
section.page{margin:0 auto 16px;width:calc(100% * var(--z,1));max-width:calc(1100px * var(--z,1))}
.zoombar{position:sticky;top:0;z-index:4;margin:-10px -12px 8px;padding:4px 12px;background:#3c434d;color:#e8eaed;
 font-size:12px}
.zoombar button{font:inherit;margin-left:4px;padding:1px 8px;border:1px solid #6b7280;border-radius:3px;
 background:#525a66;color:#fff;cursor:pointer}
.zoombar button.on{background:#e8eaed;color:#1d2330;border-color:#e8eaed}
.pg-no{color:#e8eaed;font-size:12px;margin:0 0 3px}
.sheet{position:relative;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.5)}
.sheet img{display:block;width:100%;height:100%}
.sheet .anchor{position:absolute;width:1px;height:1px}
mark.v.box{position:absolute;display:block;background:rgba(255,227,138,.28);box-shadow:none;border-radius:0;
 outline:2px solid #e0a800;outline-offset:0;padding:0}
mark.v.box.nar{background:rgba(201,231,255,.3);outline-color:#3d8bd4}
mark.v.box.suspect{background:rgba(160,160,160,.25);outline:1px dashed #888}
mark.v.box.fail{background:rgba(255,201,196,.35);outline:2px solid #e8710a}
mark.v.box.diag{background:rgba(255,138,128,.45);outline:3px solid #d93025}
mark.v.box:hover{outline:3px solid #1a73e8;z-index:2}
mark.v.box.sel{outline:3px solid #1a73e8;outline-offset:1px;z-index:3}
mark.v.box.diag.sel{outline:3px solid #d93025;box-shadow:0 0 0 5px #1a73e8}
section.lost{background:#fff;border-radius:4px;padding:6px 10px;margin:0 auto;max-width:1100px}
section.lost h3{font-size:13px;margin:2px 0 4px}
.finding[data-terms]{cursor:pointer}
.finding.sel{box-shadow:0 0 0 2px #1a73e8}
"""

JS = r"""
(function(){
  var src=document.getElementById('left');
  var info=document.getElementById('info');
  function all(sel){return Array.prototype.slice.call(document.querySelectorAll(sel));}
  var marks={};
  all('mark.v').forEach(function(m){m.dataset.c.split(' ').forEach(function(id){(marks[id]=marks[id]||[]).push(m);});});
  function clear(){all('.sel').forEach(function(e){e.classList.remove('sel');});}
  function flash(el){el.classList.remove('flash');void el.offsetWidth;el.classList.add('flash');}
  function showTab(name){
    all('nav.tabs button').forEach(function(b){b.classList.toggle('on',b.dataset.tab===name);});
    all('.pane').forEach(function(p){p.classList.toggle('on',p.id==='pane-'+name);});
  }
  function toSource(id){
    var ms=marks[id]||[]; if(!ms.length) return false;
    clear(); ms.forEach(function(m){m.classList.add('sel');flash(m);});
    ms[0].scrollIntoView({block:'center',inline:'nearest'});
    return true;
  }
  function toCell(ids){
    clear(); var first=null;
    ids.forEach(function(id){var td=document.getElementById('t-'+id); if(td){td.classList.add('sel');flash(td);first=first||td;}
      (marks[id]||[]).forEach(function(m){m.classList.add('sel');});});
    if(first){showTab(first.closest('.pane').id.replace('pane-',''));first.scrollIntoView({block:'center',inline:'nearest'});}
  }
  function showFinding(f){
    /* every value the check names, and its likely-wrong value first in view */
    clear(); f.classList.add('sel');
    f.dataset.terms.split(' ').forEach(function(id){(marks[id]||[]).forEach(function(m){m.classList.add('sel');});});
    var d=f.dataset.diag&&marks[f.dataset.diag]; var first=(d&&d[0])||document.querySelector('mark.v.sel');
    if(first){first.scrollIntoView({block:'center',inline:'nearest'});flash(first);}
  }
  document.addEventListener('mouseover',function(ev){
    var m=ev.target.closest&&ev.target.closest('mark.v.box'); if(m){info.textContent=m.title;info.style.display='block';}
  });
  document.addEventListener('click',function(ev){
    var a=ev.target.closest('a'); var m=ev.target.closest('mark.v');
    if(a&&a.dataset.c){ev.preventDefault();toSource(a.dataset.c);return;}
    if(a&&a.classList.contains('goto-line')){ev.preventDefault();var l=document.querySelector(a.getAttribute('href'));
      if(l){l.scrollIntoView({block:'center'});flash(l);}return;}
    if(m){var ids=m.dataset.c.split(' ');toCell(ids);info.textContent=m.title;info.style.display='block';return;}
    var z=ev.target.closest('[data-zoom]');
    if(z){document.getElementById('pages').style.setProperty('--z',z.dataset.zoom);
      all('[data-zoom]').forEach(function(b){b.classList.toggle('on',b===z);});return;}
    var f=ev.target.closest('.finding');
    if(f&&f.dataset.terms){showFinding(f);return;}
    var b=ev.target.closest('nav.tabs button'); if(b){showTab(b.dataset.tab);return;}
    info.style.display='none';
  });
  var h=location.hash;
  if(h.indexOf('#tab-')===0){showTab(h.slice(5));}
  var fh=h.indexOf('#F')===0&&document.getElementById(h.slice(1));
  if(h.indexOf('#s-')===0){toSource(h.slice(3));}
  else if(fh&&fh.dataset.terms){showFinding(fh);}
  else{var first=document.querySelector('mark.v.diag')||document.querySelector('mark.v.fail')
      ||document.querySelector('mark.v');
    if(first){first.scrollIntoView({block:'center',inline:'nearest'});}}
  document.documentElement.setAttribute('data-ready',String(Object.keys(marks).length));
})();
"""
