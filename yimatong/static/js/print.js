// The bulletin offers the browser's print dialog once it is laid out (save as PDF from there).
if (new URLSearchParams(location.search).get("print") === "1") window.addEventListener("load", () => window.print());
