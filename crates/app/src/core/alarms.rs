//! The wall's side of alarms: urgent new ones put their cameras on the alarm tiles and flash,
//! acknowledged ones stop flashing, closed ones give the tiles back.

use super::*;

impl Core {
    /// Puts the cameras of every open, unacknowledged urgent alarm on the alarm tiles (oldest
    /// first, so the newest ends up on top when tiles run out).
    pub(super) async fn pop_open_alarms(&self) {
        // Tiles still held from before (the app was closed or killed meanwhile): alarms handled
        // since then let go of them.
        let held = self.walls.lock().held_alarms();
        for id in held {
            let path = format!("/alarms/{}", crate::hub_client::encode(&id));
            let state = match self.hub_get(&path).await.and_then(read_hub::<Alarm>) {
                Ok(alarm) => alarm.state,
                Err(error) if error.code == ErrorCode::HubNotFound => AlarmState::Closed,
                Err(error) => {
                    tracing::warn!(%error, alarm = %id, "held alarm not checked");
                    continue;
                }
            };
            if state != AlarmState::New {
                self.alarm_changed(&id, state, POP_PRIORITY, &[]);
            }
        }
        let sites: Vec<String> = self
            .state
            .lock()
            .sites
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let mut open: Vec<Alarm> = Vec::new();
        for site in sites {
            let path = format!(
                "/alarms?site={}&state=new&limit=50",
                crate::hub_client::encode(&site)
            );
            let read = self.hub_get(&path).await.and_then(read_hub::<Vec<Alarm>>);
            match read {
                Ok(alarms) => open.extend(alarms),
                Err(error) => tracing::warn!(%error, %site, "open alarms not read"),
            }
        }
        open.retain(|a| a.priority <= POP_PRIORITY);
        open.sort_by(|a, b| a.raised.cmp(&b.raised));
        for alarm in &open {
            self.alarm_changed(&alarm.id, alarm.state, alarm.priority, &alarm.cameras);
        }
    }

    /// Whether this is the first time alarm `id` asks for the wall (the set is bounded: an alarm
    /// that old is long handled).
    pub(super) fn first_pop(&self, id: &str) -> bool {
        let mut popped = self.popped_alarms.lock();
        if popped.len() >= 4096 {
            popped.clear();
        }
        popped.insert(id.to_owned())
    }

    /// Chooses the tiles alarms take over on wall `wall`.
    pub fn set_alarm_tiles(&self, wall: &str, tiles: &[usize]) -> Result<()> {
        self.change_walls(|walls, _| walls.set_alarm_tiles(wall, tiles))
    }

    /// The wall's side of an alarm: a new urgent one puts its cameras on the alarm tiles and
    /// flashes them; acknowledged stops the flashing; closed gives the tiles back.
    pub(super) fn alarm_changed(
        &self,
        id: &str,
        state: AlarmState,
        priority: i64,
        cameras: &[String],
    ) {
        let changed = match state {
            AlarmState::New
                if priority <= POP_PRIORITY && !cameras.is_empty() && self.first_pop(id) =>
            {
                let pop = AlarmPop {
                    alarm: id.to_owned(),
                    cameras: cameras.to_vec(),
                };
                match self.with_source(|walls, source| walls.pop_alarm(&pop, source)) {
                    Ok(tiles) => !tiles.is_empty(),
                    Err(error) => {
                        tracing::warn!(%error, alarm = %id, "alarm cameras not shown");
                        false
                    }
                }
            }
            AlarmState::New => false,
            AlarmState::Acknowledged => self.walls.lock().alarm_acknowledged(id),
            AlarmState::Closed => self.with_source(|walls, source| walls.alarm_closed(id, source)),
        };
        if changed {
            self.save();
            self.emit_walls();
        }
    }
}
