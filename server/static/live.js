// The first page of a leaderboard, live: on each accepted score, fetch the rows again and
// mark the player's. A server with no stream to spare answers 503, and the page polls instead.
// Loaded as a file, not inline, so the pages' CSP can forbid inline script.
(() => {
  const POLL_MS = 10000;
  const game = encodeURIComponent(document.currentScript.dataset.game);
  const rows = document.getElementById("rows"), live = document.getElementById("live");

  async function refresh(player) {
    const response = await fetch(`/games/${game}/rows`);
    if (!response.ok) return;
    rows.innerHTML = await response.text();
    document.getElementById("players").textContent = response.headers.get("X-Players");
    const row = player && rows.querySelector(`tr[data-player="${CSS.escape(player)}"]`);
    if (row) row.classList.add("fresh");
  }

  const events = new EventSource(`/games/${game}/events`);
  events.onopen = () => { live.hidden = false; };
  events.onerror = () => {
    live.hidden = true;
    if (events.readyState === EventSource.CLOSED) setInterval(refresh, POLL_MS);  // refused: poll
  };
  events.addEventListener("score", (message) => refresh(JSON.parse(message.data).player.id));
})();
