// Live boards: each event carries the change (the player's new row, the players count, the score
// for the tickers), and the page applies it itself, asking the server nothing. A page that
// reconnects names the last event it saw; when the server cannot send what it missed (it
// restarted), a "reset" event has the page fetch its rows once. A server with no stream to spare
// answers 503, and the page polls instead. A file, not inline, so the CSP forbids inline script.
(() => {
  const POLL_MS = 10000, TICKER_SIZE = 12;
  const script = document.currentScript;
  const live = document.getElementById("live");
  const better = (order, a, b) => (order === "higher" ? a > b : a < b);

  function setText(element, text) {  // the first text node only: a unit in <small> stays
    const node = [...element.childNodes].find((child) => child.nodeType === Node.TEXT_NODE);
    if (node) node.nodeValue = text + (element.children.length ? " " : "");
    else element.prepend(document.createTextNode(text));
  }

  function fill(element, row) {
    for (const field of element.querySelectorAll("[data-field]")) {
      const name = field.dataset.field;
      if (name === "link") field.href = `/players/${encodeURIComponent(row.id)}`;
      else if (name === "picture") field.src = row.picture;
      else if (name === "when") { field.textContent = row.when; field.dateTime = row.at; }
      else setText(field, String(row[name]));
    }
    element.dataset.player = row.id;
    element.dataset.score = row.score;
  }

  // Competition ranking: a row moves down one when the new best beats it and the old one did not.
  function apply(board, row) {
    const order = board.dataset.order, size = Number(board.dataset.size);
    const rows = () => [...board.querySelectorAll(":scope > [data-player]")];
    const mine = rows().find((element) => element.dataset.player === row.id);
    const old = mine ? Number(mine.dataset.score) : null;
    for (const element of rows()) {
      const score = Number(element.dataset.score);
      if (element !== mine && better(order, row.score, score) && !(old !== null && better(order, old, score))) {
        const rank = element.querySelector("[data-field=rank]");
        setText(rank, String(Number(rank.textContent) + 1));
      }
    }
    if (mine) mine.remove();
    const after = rows().find((element) => better(order, row.score, Number(element.dataset.score)));
    if (!after && rows().length >= size) return;  // below the rows this board shows
    const template = document.querySelector(`template[data-row-of="${CSS.escape(board.dataset.board)}"]`);
    const fresh = template.content.firstElementChild.cloneNode(true);
    fill(fresh, row);
    fresh.classList.add("fresh");
    board.insertBefore(fresh, after || null);
    for (const extra of rows().slice(size)) extra.remove();
    for (const empty of board.querySelectorAll(":scope > .empty")) empty.remove();
  }

  function tick(latest) {
    const ticker = document.getElementById("ticker");
    if (!ticker) return;
    const titles = JSON.parse(ticker.dataset.titles);
    const item = document.createElement("li"), name = document.createElement("span");
    const score = document.createElement("b"), about = document.createElement("small");
    name.className = "name"; name.textContent = latest.name;
    score.textContent = latest.score;
    about.textContent = `${titles[latest.game] || latest.game} · ${latest.when}`;
    item.append(name, " ", score, " ", about);
    item.classList.add("fresh");
    ticker.prepend(item);
    for (const extra of [...ticker.children].slice(TICKER_SIZE)) extra.remove();
  }

  function onScore(message) {
    const change = JSON.parse(message.data);
    for (const count of document.querySelectorAll(`[data-players="${CSS.escape(change.game)}"]`)) {
      count.textContent = change.players;
    }
    if (change.row) {
      for (const board of document.querySelectorAll(`[data-board="${CSS.escape(change.game)}"]`)) apply(board, change.row);
    }
    tick(change.latest);
  }

  async function fetchRows() {  // the game page's first rows, as the server renders them
    const board = document.querySelector("[data-board]");
    const response = await fetch(`/games/${encodeURIComponent(board.dataset.board)}/rows`);
    if (!response.ok) return;
    board.innerHTML = await response.text();
    document.querySelector(`[data-players]`).textContent = response.headers.get("X-Players");
  }
  const catchUp = script.dataset.reset === "rows" ? fetchRows : () => location.reload();

  const events = new EventSource(`${script.dataset.events}?after=${encodeURIComponent(script.dataset.after)}`);
  events.addEventListener("live", () => { if (live) live.hidden = false; });
  events.addEventListener("reset", catchUp);
  events.addEventListener("score", onScore);
  events.onerror = () => {
    if (live) live.hidden = true;
    if (events.readyState === EventSource.CLOSED) setInterval(catchUp, script.dataset.reset === "rows" ? POLL_MS : 6 * POLL_MS);
  };
})();
