import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Console } from "./Console";
import { httpTransport, inApp, tauriTransport } from "./transport";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");

void (async () => {
  // In the app the core answers over IPC; in a browser the hub serving this page does.
  const transport = inApp() ? await tauriTransport() : httpTransport();
  createRoot(root).render(
    <StrictMode>
      <Console transport={transport} />
    </StrictMode>,
  );
})();
