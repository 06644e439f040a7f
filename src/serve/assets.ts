/**
 * The stylesheet and the script of every page, served from memory under
 * `/assets/`. The script only does live updates: on a `commit` event from
 * `/events` it fetches the page again and swaps its `<main>`; everything else
 * (collapsing JSON, forms, links) is plain HTML.
 */
export const APP_CSS = `
:root { color-scheme: light; --fg: #1d232a; --muted: #5c6773; --line: #d8dee4; --bg: #fff; --soft: #f5f7f9;
  --add: #dff5e3; --add-fg: #116329; --del: #fde2e1; --del-fg: #a1281c; --chg: #fff3c4; --mov: #e3ecff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--soft); }
header nav { display: flex; gap: 1rem; flex: 1; }
header nav a { color: var(--fg); text-decoration: none; padding: .15rem .4rem; border-radius: 4px; }
header nav a[aria-current="page"] { background: var(--fg); color: var(--bg); }
#live { font-size: 12px; color: var(--muted); }
#live.connected::before { content: "● "; color: #2da44e; }
#live.updated { color: #2da44e; }
main { padding: 1rem 1.2rem; }
h1 { font-size: 1.3rem; margin: .2rem 0 .8rem; word-break: break-all; }
h2 { font-size: 1.05rem; margin: 1.2rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
pre { background: var(--soft); padding: .6rem; overflow: auto; border-radius: 4px; }
form.filters { display: flex; gap: .6rem; align-items: end; flex-wrap: wrap; margin-bottom: .6rem; }
label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: .15rem; }
input, select, button { font: inherit; padding: .25rem .4rem; }
.muted { color: var(--muted); }
.error { color: var(--del-fg); background: var(--del); padding: .5rem .7rem; border-radius: 4px; }
.ok { color: var(--add-fg); background: var(--add); padding: .5rem .7rem; border-radius: 4px; }
.pager { display: flex; gap: 1rem; align-items: center; }
.tag { display: inline-block; background: var(--soft); border: 1px solid var(--line); border-radius: 3px; padding: 0 .3rem; margin: 0 .2rem .1rem 0; font-size: 12px; }
.sev-critical, .sev-high { color: var(--del-fg); font-weight: 600; }
.json { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; white-space: pre-wrap; word-break: break-word; }
.json details { display: inline; }
.json details > summary { display: inline; cursor: pointer; list-style: none; color: var(--muted); }
.json details > summary::before { content: "▸ "; }
.json details[open] > summary::before { content: "▾ "; }
.json .member { display: block; padding-left: 1.2rem; }
.json .str { color: #0a3069; } .json .num { color: #0550ae; } .json .lit { color: #8250df; } .json .prop { color: #953800; }
.json .added { background: var(--add); } .json .removed { background: var(--del); }
.json .changed { background: var(--chg); } .json .moved { background: var(--mov); }
.json span[data-pointer]:has(> details) { display: inline-block; vertical-align: top; border-radius: 3px; padding-right: .4rem; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.side-by-side > section { border: 1px solid var(--line); border-radius: 4px; padding: .5rem; overflow: auto; }
.legend span { margin-right: .8rem; padding: 0 .3rem; border-radius: 3px; }
.legend .added { background: var(--add); } .legend .removed { background: var(--del); }
.legend .changed { background: var(--chg); } .legend .moved { background: var(--mov); }
.change-list li { margin: .15rem 0; }
.kind-added { color: var(--add-fg); } .kind-removed { color: var(--del-fg); } .kind-changed { color: #7d4e00; } .kind-moved { color: #0550ae; }
.bars { display: flex; gap: 2rem; flex-wrap: wrap; }
.bar { display: inline-block; height: .7rem; background: #d1242f; vertical-align: middle; margin-right: .3rem; }
.closed { color: var(--add-fg); } .open { color: var(--del-fg); }
`;

export const APP_JS = `
(() => {
  const marker = document.getElementById('live');
  if (!window.EventSource || !marker) return;
  let events = null;
  let pending = null;
  const refreshSoon = () => {
    if (document.body.dataset.live !== 'on') return;
    clearTimeout(pending);
    pending = setTimeout(refresh, 100);
  };
  function listen() {
    events = new EventSource('/events');
    events.addEventListener('open', () => marker.classList.add('connected'));
    events.addEventListener('error', () => marker.classList.remove('connected'));
    events.addEventListener('commit', (event) => {
      marker.dataset.lastCommit = JSON.parse(event.data).commitId;
      refreshSoon();
    });
    // Snapshots and gc commit nothing; they show only as a write.
    events.addEventListener('write', refreshSoon);
  }
  // A browser opens only a few connections to one server (6 in Chromium), and
  // each listening tab holds one: hidden tabs let go of theirs, and catch up
  // once when shown again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') {
      events?.close();
      events = null;
      marker.classList.remove('connected');
    } else if (events === null) {
      listen();
      refreshSoon();
    }
  });
  if (document.visibilityState !== 'hidden') listen();
  async function refresh() {
    const response = await fetch(location.href, { credentials: 'same-origin' });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    const fresh = page.getElementById('main');
    const current = document.getElementById('main');
    if (!fresh || !current) return;
    // What the reader opened or closed stays so, wherever it still exists.
    // The same path appears in both panes of a diff, so the pane is part of the name.
    const nameOf = (d) => (d.closest('section[id]')?.id ?? '') + d.dataset.path;
    const state = new Map([...current.querySelectorAll('details[data-path]')].map((d) => [nameOf(d), d.open]));
    current.replaceWith(document.importNode(fresh, true));
    for (const details of document.querySelectorAll('details[data-path]')) {
      if (state.has(nameOf(details))) details.open = state.get(nameOf(details));
    }
    marker.classList.add('updated');
    marker.textContent = 'live · updated ' + new Date().toLocaleTimeString();
    document.dispatchEvent(new CustomEvent('ae:updated'));
  }
})();
`;
