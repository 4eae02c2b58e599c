// The project board: drag a card to another stage. The server moves it at once when no facts
// are missing (the page reloads), or answers with the gate form, shown in a dialog.
(() => {
  const modal = document.getElementById("modal");
  const csrf = () => JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  let dragged = null;

  document.addEventListener("dragstart", (event) => {
    dragged = null; // a link, text or file dragged in is not a card: it must not move the last card
    const card = event.target.closest && event.target.closest(".board-card[draggable=true]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.code);
  });
  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".board-column.drop-target").forEach((c) => c.classList.remove("drop-target"));
  });
  document.addEventListener("dragover", (event) => {
    const column = event.target.closest(".board-column");
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.add("drop-target");
  });
  document.addEventListener("dragleave", (event) => {
    const column = event.target.closest(".board-column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });
  document.addEventListener("drop", (event) => {
    const column = event.target.closest(".board-column");
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    const to = column.dataset.stage;
    if (to === dragged.dataset.stage) return;
    htmx.ajax("POST", dragged.dataset.moveUrl, {
      target: "#modal-body",
      swap: "innerHTML",
      values: { to: to, expected_stage: dragged.dataset.stage, from: "board", probe: "1" },
      headers: { "X-CSRFToken": csrf() },
    });
  });
  // A gate form arrived: open the dialog.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "modal-body" && event.detail.target.innerHTML.trim() && !modal.open) {
      modal.showModal();
    }
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-modal]")) modal.close();
  });
})();
