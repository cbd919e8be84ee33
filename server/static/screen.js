// The event screen shows its games in turn, each for data-seconds; with one game it stays.
(() => {
  const holder = document.querySelector(".screen-boards");
  const boards = [...holder.querySelectorAll(".screen-board")];
  if (boards.length < 2) return;
  let shown = 0;
  setInterval(() => {
    boards[shown].hidden = true;
    shown = (shown + 1) % boards.length;
    boards[shown].hidden = false;
  }, Number(holder.dataset.seconds) * 1000);
})();
