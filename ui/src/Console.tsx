import { WallMiniature } from "./WallMiniature";

/** The console shell. Today: the wall layout panel; cameras, events and maps join it. */
export function Console() {
  return (
    <div className="console">
      <header className="console-bar">
        <span className="brand">Watchfloor</span>
      </header>
      <main className="console-main">
        <WallMiniature />
      </main>
    </div>
  );
}
