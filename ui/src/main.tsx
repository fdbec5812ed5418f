import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Console } from "./Console";
import { inApp, tauriTransport } from "./transport";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");

void (async () => {
  if (!inApp()) {
    root.textContent = "Open Watchfloor from the desktop app (the browser view comes with the hub).";
    return;
  }
  const transport = await tauriTransport();
  createRoot(root).render(
    <StrictMode>
      <Console transport={transport} />
    </StrictMode>,
  );
})();
