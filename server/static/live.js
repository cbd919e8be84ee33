// The first page of a leaderboard, live: on each accepted score, fetch the rows again and
// mark the player's. Loaded as a file, not inline, so the pages' CSP can forbid inline script.
(() => {
  const game = document.currentScript.dataset.game;
  const rows = document.getElementById("rows"), live = document.getElementById("live");
  const events = new EventSource(`/games/${encodeURIComponent(game)}/events`);
  events.onopen = () => { live.hidden = false; };
  events.onerror = () => { live.hidden = true; };
  events.addEventListener("score", async (message) => {
    const record = JSON.parse(message.data);
    const response = await fetch(`/games/${encodeURIComponent(game)}/rows`);
    if (!response.ok) return;
    rows.innerHTML = await response.text();
    document.getElementById("players").textContent = response.headers.get("X-Players");
    const row = rows.querySelector(`tr[data-player="${CSS.escape(record.player.id)}"]`);
    if (row) row.classList.add("fresh");
  });
})();
