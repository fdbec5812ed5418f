//! What the walls show, their windows, and layouts saved on the hub.

use super::*;

impl Core {
    /// Runs `change` on the walls with the cameras at hand, then saves and tells the console.
    pub(super) fn change_walls<T>(
        &self,
        change: impl FnOnce(&mut Walls, &Source<'_>) -> Result<T>,
    ) -> Result<T> {
        let out = self.with_source(change)?;
        self.save();
        self.emit_walls();
        Ok(out)
    }

    /// Runs `work` on the walls with the cameras at hand (copied first: the state's lock is
    /// not held while streams are made).
    pub(super) fn with_source<T>(&self, work: impl FnOnce(&mut Walls, &Source<'_>) -> T) -> T {
        let cameras = self.state.lock().cameras.clone();
        let core = self.me.clone();
        let tickets: TicketFetcher = Arc::new(move |site, camera, stream, mode| {
            core.upgrade()
                .ok_or_else(|| "the app is closing".to_owned())?
                .stream_ticket_blocking(site, camera, stream, mode)
        });
        let source = Source {
            engine: self.engine.as_ref(),
            cameras: &cameras,
            tickets: &tickets,
        };
        work(&mut self.walls.lock(), &source)
    }

    pub fn walls(&self) -> Vec<WallView> {
        self.walls.lock().views()
    }

    pub fn wall_ids(&self) -> Vec<String> {
        self.walls.lock().ids()
    }

    /// A window now shows wall `id`; `start` begins drawing the live wall in it.
    pub fn attach_wall(
        &self,
        id: &str,
        start: impl FnOnce(LiveWall) -> std::result::Result<RenderThread, String>,
    ) -> Result<()> {
        self.change_walls(|walls, source| walls.attach(id, start, source))
    }

    /// The wall's window closed; returns its render thread to stop.
    pub fn detach_wall(&self, id: &str) -> Option<RenderThread> {
        let renderer = self.walls.lock().detach(id);
        self.emit_walls();
        renderer
    }

    /// The wall's window was resized (physical pixels).
    pub fn resize_wall(&self, id: &str, width: u32, height: u32) -> Result<()> {
        self.walls.lock().resize(id, width, height)
    }

    pub fn add_wall(&self) -> Result<String> {
        self.change_walls(|walls, _| Ok(walls.add()))
    }

    pub fn remove_wall(&self, id: &str) -> Result<()> {
        self.change_walls(|walls, _| walls.remove(id))
    }

    pub fn set_preset(&self, wall: &str, preset: &str) -> Result<()> {
        let preset: wall::Preset = preset
            .parse()
            .map_err(|e| AppError::bad_input(format!("{e}")))?;
        self.change_walls(|walls, source| {
            walls.set_layout(wall, WallLayout::preset(preset), source)
        })
    }

    pub fn assign(&self, wall: &str, tile: usize, camera: Option<&str>) -> Result<()> {
        self.change_walls(|walls, source| walls.assign(wall, tile, camera, source))
    }

    /// Shows these cameras, in order, on a grid that holds them all.
    pub fn fill_wall(&self, wall: &str, cameras: &[String]) -> Result<()> {
        self.change_walls(|walls, source| walls.fill(wall, cameras, source))
    }

    /// Every camera of a site, in the tree's order.
    pub fn site_cameras(&self, site: &str) -> Vec<String> {
        self.state
            .lock()
            .sites
            .iter()
            .filter(|s| s.id == site)
            .flat_map(|s| {
                s.floors
                    .iter()
                    .flat_map(|f| f.cameras.iter().map(|c| c.id.clone()))
            })
            .collect()
    }

    pub fn select(&self, wall: &str, tile: usize) -> Result<()> {
        self.change_walls(|walls, _| walls.select(wall, tile))
    }

    pub fn maximize(&self, wall: &str, tile: Option<usize>) -> Result<()> {
        self.change_walls(|walls, _| walls.maximize(wall, tile))
    }

    pub fn set_tour(&self, wall: &str, tile: usize, tour: Option<TileTour>) -> Result<()> {
        self.change_walls(|walls, source| walls.set_tour(wall, tile, tour, Instant::now(), source))
    }

    /// Moves tours on; call about once a second.
    pub fn tick(&self, now: Instant) {
        // Called twice a second: nothing is copied unless a tour is due.
        if !self.walls.lock().tour_due(now) {
            return;
        }
        if self.with_source(|walls, source| walls.tick(now, source)) {
            self.save();
            self.emit_walls();
        }
    }

    /// Writes a PNG of what wall `id` shows to the profile's `snapshots` folder.
    pub fn snapshot(&self, id: &str) -> Result<Snapshot> {
        let (answer, layout) = {
            let walls = self.walls.lock();
            (walls.request_snapshot(id)?, walls.view(id)?.state.layout)
        };
        // Waited for without the walls' lock: the render thread may take a while.
        let image = answer
            .recv_timeout(std::time::Duration::from_secs(10))
            .map_err(|_| {
                AppError::new(
                    ErrorCode::Wall,
                    format!("wall `{id}` gave no picture in 10 s"),
                )
            })?
            .map_err(|e| AppError::new(ErrorCode::Wall, e.to_string()))?;
        let folder = self.profile.dir().join("snapshots");
        std::fs::create_dir_all(&folder)
            .map_err(|e| AppError::storage(format!("cannot create {}: {e}", folder.display())))?;
        let path = folder.join(format!("{id}-{}.png", now_ms()));
        image
            .save_png(&path)
            .map_err(|e| AppError::storage(e.to_string()))?;
        Ok(Snapshot {
            tiles: layout.pixel_rects(image.width, image.height, TILE_GAP),
            width: image.width,
            height: image.height,
            path,
        })
    }

    pub fn stream_health(&self) -> Vec<TileHealth> {
        let requests = self.walls.lock().request_health();
        requests
            .into_iter()
            .flat_map(|r| r.wait(std::time::Duration::from_secs(2)))
            .collect()
    }

    // ---- windows ------------------------------------------------------------------------

    pub fn window_place(&self, label: &str) -> Option<WindowPlace> {
        self.state.lock().saved.windows.get(label).copied()
    }

    /// Remembers where a window is (saved on the next save, and at exit).
    pub fn remember_window(&self, label: &str, place: WindowPlace) {
        self.state
            .lock()
            .saved
            .windows
            .insert(label.to_owned(), place);
    }

    /// Saves everything now (at exit).
    pub fn flush(&self) {
        self.save();
    }

    // ---- saved layouts ------------------------------------------------------------------

    pub async fn layouts(&self) -> Result<Vec<SavedLayout>> {
        let (client, token) = self.signed()?;
        client.layouts(&token).await
    }

    /// Saves what wall `wall` shows as a layout on the hub (a new one unless `id` is given),
    /// private or shared with a site.
    pub async fn save_layout(
        &self,
        wall: &str,
        name: &str,
        shared_site: Option<&str>,
        id: Option<&str>,
    ) -> Result<SavedLayout> {
        let (client, token) = self.signed()?;
        let state = self.walls.lock().view(wall)?.state;
        let id = id.map(str::to_owned).unwrap_or_else(new_id);
        let mut layout = state.layout.clone();
        layout.maximized = None;
        let wall = serde_json::to_value(&layout)
            .map_err(|e| AppError::bad_input(format!("cannot encode the layout: {e}")))?;
        let body = LayoutBody {
            name: name.trim().to_owned(),
            shared_site: shared_site.map(str::to_owned),
            wall,
            cameras: state.cameras.clone(),
            tours: (state.tours.iter().cloned())
                .map(|t| t.map(contract::Tour::from))
                .collect(),
        };
        let saved = client.put_layout(&token, &id, &body).await?;
        self.events.emit(AppEvent::Layouts);
        Ok(saved)
    }

    /// Shows a saved layout on wall `wall`.
    pub async fn open_layout(&self, wall: &str, id: &str) -> Result<()> {
        let layouts = self.layouts().await?;
        let layout = layouts
            .iter()
            .find(|l| l.id == id)
            .ok_or_else(|| AppError::bad_input(format!("no saved layout `{id}`")))?;
        let state = layout_state(layout)?;
        // Its tours start now, from their first cameras.
        self.change_walls(|walls, source| walls.apply_state(wall, state, source))
    }

    pub async fn delete_layout(&self, id: &str) -> Result<()> {
        let (client, token) = self.signed()?;
        client.delete_layout(&token, id).await?;
        self.events.emit(AppEvent::Layouts);
        Ok(())
    }
}

/// The wall state a saved layout describes, checked like any layout file.
pub fn layout_state(saved: &SavedLayout) -> Result<WallState> {
    let layout = WallLayout::from_json(&saved.body.wall.to_string()).map_err(|e| {
        AppError::bad_input(format!(
            "the saved layout `{}` is not usable: {e}",
            saved.body.name
        ))
    })?;
    Ok(WallState {
        layout,
        cameras: saved.body.cameras.clone(),
        tours: (saved.body.tours.iter().cloned())
            .map(|t| t.map(TileTour::from))
            .collect(),
        selected: 0,
        alarm_tiles: Vec::new(),
        alarm_holds: Default::default(),
    }
    .normalised())
}
