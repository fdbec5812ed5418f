//! The walls' rules: presets, tiles, tours and alarm tiles, without a GPU, a network or a sleep.

use super::*;

/// Knows cameras by name but opens nothing (no window is attached in these tests).
struct Known(Vec<&'static str>);

impl TileSource for Known {
    fn tile(&self, camera: &str) -> Option<LiveTile> {
        if !self.0.contains(&camera) {
            return None;
        }
        let engine = MediaEngine::new(Default::default()).ok()?;
        let mut camera = KnownCamera {
            id: camera.into(),
            floor: "f".into(),
            name: camera.into(),
            main_url: format!("rtsp://127.0.0.1:9/{camera}"),
            sub_url: String::new(),
            credential_ref: None,
            site: "hq".into(),
            recorder_url: None,
            doors: vec![],
        };
        camera.sub_url = camera.main_url.clone();
        Some(live_tile(&engine, &camera, None, None))
    }

    fn replay_tile(
        &self,
        camera: &str,
        from_us: i64,
        _: &[StreamName],
        _: Option<&PlaybackClock>,
    ) -> Option<LiveTile> {
        self.tile(camera).map(|t| t.replaying(from_us))
    }
}

fn walls() -> Walls {
    Walls::restore(&BTreeMap::new())
}

#[test]
fn a_first_start_has_one_4x4_wall() {
    let walls = walls();
    let view = walls.view("wall-1").expect("wall");
    assert_eq!(view.state.layout.tiles.len(), 16);
    assert_eq!(view.state.cameras, vec![None; 16]);
    assert!(!view.on_screen);
}

#[test]
fn cameras_stay_on_the_tiles_that_remain() {
    let source = Known(vec!["a", "b"]);
    let mut walls = walls();
    walls.assign("wall-1", 0, Some("a"), &source).expect("a");
    walls.assign("wall-1", 15, Some("b"), &source).expect("b");
    walls.maximize("wall-1", Some(15)).expect("max");
    let layout = WallLayout::preset(wall::Preset::Grid(2));
    walls.set_layout("wall-1", layout, &source).expect("2x2");
    let state = walls.view("wall-1").expect("wall").state;
    assert_eq!(state.cameras, vec![Some("a".into()), None, None, None]);
    assert_eq!(state.layout.maximized, None);
}

#[test]
fn an_alarm_takes_the_alarm_tiles_flashes_until_acknowledged_and_gives_them_back() {
    let source = Known(vec!["a", "b", "door1", "door2", "tour1"]);
    let mut walls = walls();
    assert_eq!(walls.view("wall-1").expect("wall").state.alarm_tiles, [15]);
    walls.set_alarm_tiles("wall-1", &[14, 15]).expect("tiles");
    assert!(walls.set_alarm_tiles("wall-1", &[16]).is_err());
    walls.assign("wall-1", 14, Some("a"), &source).expect("a");
    let tour = TileTour {
        cameras: vec!["tour1".into(), "b".into()],
        dwell_s: 5,
    };
    walls
        .set_tour("wall-1", 15, Some(tour.clone()), Instant::now(), &source)
        .expect("tour");
    let pop = AlarmPop {
        alarm: "al1".into(),
        cameras: vec!["door1".into(), "unknown".into(), "door2".into()],
    };
    assert_eq!(walls.pop_alarm(&pop, &source).expect("pop"), [14, 15]);
    let view = walls.view("wall-1").expect("wall");
    assert_eq!(view.state.cameras[14].as_deref(), Some("door1"));
    assert_eq!(view.state.cameras[15].as_deref(), Some("door2"));
    assert_eq!(view.flashing, [14, 15]);
    assert!(
        !walls.tour_due(Instant::now() + Duration::from_secs(60)),
        "the tour waits"
    );

    assert!(walls.alarm_acknowledged("al1"));
    assert!(!walls.alarm_acknowledged("al1"), "once");
    assert!(walls.view("wall-1").expect("wall").flashing.is_empty());
    assert_eq!(
        walls.view("wall-1").expect("wall").state.cameras[14].as_deref(),
        Some("door1"),
        "acknowledged cameras stay up"
    );

    assert!(walls.alarm_closed("al1", &source));
    let view = walls.view("wall-1").expect("wall");
    assert_eq!(view.state.cameras[14].as_deref(), Some("a"));
    assert_eq!(view.state.cameras[15].as_deref(), Some("tour1"));
    assert_eq!(view.state.tours[15], Some(tour), "the tour comes back");
    assert!(!walls.alarm_closed("al1", &source));
}

#[test]
fn alarm_holds_survive_a_restart_and_still_give_the_tile_back() {
    let source = Known(vec!["a", "door1"]);
    let mut walls = walls();
    walls.assign("wall-1", 15, Some("a"), &source).expect("a");
    let pop = AlarmPop {
        alarm: "al9".into(),
        cameras: vec!["door1".into()],
    };
    walls.pop_alarm(&pop, &source).expect("pop");
    let saved = serde_json::to_string(&walls.states()).expect("save");
    let mut restored = Walls::restore(&serde_json::from_str(&saved).expect("load"));
    assert_eq!(restored.held_alarms(), ["al9"]);
    assert_eq!(restored.view("wall-1").expect("wall").flashing, [15]);
    assert!(restored.alarm_closed("al9", &source));
    let state = restored.view("wall-1").expect("wall").state;
    assert_eq!(state.cameras[15].as_deref(), Some("a"));
    assert!(state.alarm_holds.is_empty());
}

#[test]
fn a_second_alarm_takes_free_tiles_before_flashing_ones() {
    let source = Known(vec!["x", "y", "z"]);
    let mut walls = walls();
    walls.set_alarm_tiles("wall-1", &[0, 1]).expect("tiles");
    let first = AlarmPop {
        alarm: "al1".into(),
        cameras: vec!["x".into()],
    };
    let second = AlarmPop {
        alarm: "al2".into(),
        cameras: vec!["y".into()],
    };
    assert_eq!(walls.pop_alarm(&first, &source).expect("1"), [0]);
    assert_eq!(walls.pop_alarm(&second, &source).expect("2"), [1]);
    // The operator puts a camera on an alarm tile: it is theirs again.
    walls.assign("wall-1", 1, Some("z"), &source).expect("z");
    assert_eq!(walls.view("wall-1").expect("wall").flashing, [0]);
    assert!(!walls.alarm_closed("al2", &source), "al2 has no tile left");
}

#[test]
fn a_camera_looked_at_again_never_takes_the_tile_of_an_alarm_still_flashing() {
    let source = Known(vec!["x", "y", "z", "w"]);
    let mut walls = walls();
    walls.set_alarm_tiles("wall-1", &[0, 1]).expect("tiles");
    let pop = |alarm: &str, camera: &str| AlarmPop {
        alarm: alarm.into(),
        cameras: vec![camera.into()],
    };
    walls.pop_alarm(&pop("al1", "x"), &source).expect("al1");
    // One alarm flashing on tile 0: a camera looked at again takes the free tile 1.
    walls
        .show_on_alarm_tiles(&["z".into()], &source)
        .expect("z");
    let state = walls.view("wall-1").expect("wall").state;
    assert_eq!(state.cameras[0].as_deref(), Some("x"));
    assert_eq!(state.cameras[1].as_deref(), Some("z"));
    assert_eq!(walls.view("wall-1").expect("wall").flashing, [0]);
    // Both flashing: it finds no tile, and neither alarm loses its own.
    walls.pop_alarm(&pop("al2", "y"), &source).expect("al2");
    walls
        .show_on_alarm_tiles(&["w".into()], &source)
        .expect("w");
    assert!(walls.tiles_showing("w").is_empty());
    assert_eq!(walls.view("wall-1").expect("wall").flashing, [0, 1]);
    // Acknowledged, a tile may be taken again.
    assert!(walls.alarm_acknowledged("al1"));
    walls
        .show_on_alarm_tiles(&["w".into()], &source)
        .expect("w");
    assert_eq!(walls.tiles_showing("w"), [("wall-1".to_owned(), 0)]);
}

#[test]
fn a_fill_picks_the_smallest_grid_that_holds_the_cameras() {
    let names = ["a", "b", "c", "d", "e"];
    let source = Known(names.to_vec());
    let mut walls = walls();
    let cameras: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    walls.fill("wall-1", &cameras, &source).expect("fill");
    let state = walls.view("wall-1").expect("wall").state;
    assert_eq!(state.layout.name, "3x3");
    assert_eq!(state.cameras[4].as_deref(), Some("e"));
    assert_eq!(state.cameras[5], None);
    assert!(walls.fill("wall-1", &[], &source).is_err());
}

#[test]
fn bad_tiles_and_cameras_are_refused() {
    let source = Known(vec!["a"]);
    let mut walls = walls();
    assert_eq!(
        walls
            .assign("wall-1", 16, Some("a"), &source)
            .expect_err("tile")
            .code,
        ErrorCode::BadInput
    );
    assert_eq!(
        walls
            .assign("wall-1", 0, Some("zz"), &source)
            .expect_err("cam")
            .code,
        ErrorCode::BadInput
    );
    assert_eq!(
        walls.select("wall-2", 0).expect_err("wall").code,
        ErrorCode::BadInput
    );
    assert_eq!(walls.view("wall-1").expect("wall").state.cameras[0], None);
}

#[test]
fn tours_step_when_their_dwell_time_is_up() {
    let source = Known(vec!["a", "b", "c"]);
    let mut walls = walls();
    let start = Instant::now();
    let tour = TileTour {
        cameras: vec!["a".into(), "b".into(), "c".into()],
        dwell_s: 10,
    };
    walls
        .set_tour("wall-1", 3, Some(tour), start, &source)
        .expect("tour");
    let camera = |walls: &Walls| walls.view("wall-1").expect("wall").state.cameras[3].clone();
    assert_eq!(camera(&walls).as_deref(), Some("a"));
    assert!(!walls.tour_due(start + Duration::from_secs(9)));
    assert!(!walls.tick(start + Duration::from_secs(9), &source));
    assert!(walls.tour_due(start + Duration::from_secs(10)));
    assert!(walls.tick(start + Duration::from_secs(10), &source));
    assert_eq!(camera(&walls).as_deref(), Some("b"));
    assert!(walls.tick(start + Duration::from_secs(20), &source));
    assert!(walls.tick(start + Duration::from_secs(30), &source));
    assert_eq!(camera(&walls).as_deref(), Some("a"), "wraps around");
    // Putting a camera on the tile by hand ends the tour.
    walls.assign("wall-1", 3, Some("c"), &source).expect("c");
    assert!(!walls.tick(start + Duration::from_secs(100), &source));
    assert_eq!(walls.view("wall-1").expect("wall").state.tours[3], None);
}

#[test]
fn bad_tours_are_refused() {
    let source = Known(vec!["a"]);
    let mut walls = walls();
    let now = Instant::now();
    for tour in [
        TileTour {
            cameras: vec![],
            dwell_s: 5,
        },
        TileTour {
            cameras: vec!["a".into()],
            dwell_s: 0,
        },
        TileTour {
            cameras: vec!["nope".into()],
            dwell_s: 5,
        },
    ] {
        assert_eq!(
            walls
                .set_tour("wall-1", 0, Some(tour), now, &source)
                .expect_err("bad")
                .code,
            ErrorCode::BadInput
        );
    }
}

#[test]
fn a_saved_state_is_made_to_fit_its_layout() {
    let mut state = WallState::new(WallLayout::preset(wall::Preset::Grid(2)));
    state.cameras = vec![Some("a".into()); 9];
    state.tours = vec![];
    state.selected = 40;
    state.layout.maximized = Some(7);
    let state = state.normalised();
    assert_eq!(state.cameras.len(), 4);
    assert_eq!(state.tours.len(), 4);
    assert_eq!(state.selected, 3);
    assert_eq!(state.layout.maximized, None);
}

#[test]
fn a_tile_replays_its_camera_until_it_goes_live_or_shows_another() {
    let mut walls = walls();
    let known = Known(vec!["cam01", "cam02"]);
    walls
        .assign("wall-1", 0, Some("cam01"), &known)
        .expect("assign");
    assert!(
        walls.replay("wall-1", 1, 1_000_000, &[], &known).is_err(),
        "an empty tile has nothing to replay"
    );
    walls
        .replay("wall-1", 0, 1_795_000_000_123_456, &[], &known)
        .expect("replay");
    let view = walls.view("wall-1").expect("wall");
    assert_eq!(
        view.replaying,
        vec![TileReplayView {
            tile: 0,
            from_ms: 1_795_000_000_123,
            paced: false
        }]
    );
    // The camera stays the tile's; back to live.
    assert_eq!(view.state.cameras[0].as_deref(), Some("cam01"));
    walls.go_live("wall-1", 0, &known).expect("live");
    assert!(walls.view("wall-1").expect("wall").replaying.is_empty());
    // Another camera on the tile ends its replay.
    walls
        .replay("wall-1", 0, 1_000, &[], &known)
        .expect("replay");
    walls
        .assign("wall-1", 0, Some("cam02"), &known)
        .expect("assign");
    assert!(walls.view("wall-1").expect("wall").replaying.is_empty());
    // A replay is never saved: the profile's walls have no trace of it.
    walls
        .replay("wall-1", 0, 1_000, &[], &known)
        .expect("replay");
    let saved = serde_json::to_string(&walls.states()).expect("json");
    assert!(!saved.contains("replay"), "{saved}");
}

#[test]
fn a_tour_waits_while_its_tile_replays() {
    let mut walls = walls();
    let known = Known(vec!["cam01", "cam02"]);
    let start = Instant::now();
    let tour = TileTour {
        cameras: vec!["cam01".into(), "cam02".into()],
        dwell_s: 5,
    };
    walls
        .set_tour("wall-1", 0, Some(tour), start, &known)
        .expect("tour");
    walls
        .replay("wall-1", 0, 1_000, &[], &known)
        .expect("replay");
    let later = start + Duration::from_secs(6);
    assert!(!walls.tick(later, &known), "no step while replaying");
    assert_eq!(
        walls.view("wall-1").expect("wall").state.cameras[0].as_deref(),
        Some("cam01")
    );
    walls.go_live("wall-1", 0, &known).expect("live");
    assert!(walls.tick(later, &known), "the tour goes on");
    assert_eq!(
        walls.view("wall-1").expect("wall").state.cameras[0].as_deref(),
        Some("cam02")
    );
}

#[test]
fn a_whole_wall_replays_from_one_instant_and_goes_live_together() {
    let mut walls = walls();
    let known = Known(vec!["cam01", "cam02"]);
    assert!(
        walls
            .replay_all(
                "wall-1",
                &PlaybackClock::starting(1_000, 1.0, false),
                &BTreeMap::new(),
                &known
            )
            .is_err(),
        "an empty wall has nothing to replay"
    );
    walls
        .assign("wall-1", 0, Some("cam01"), &known)
        .expect("assign");
    walls
        .assign("wall-1", 5, Some("cam02"), &known)
        .expect("assign");
    let clock = PlaybackClock::starting(7_000_000, 4.0, true);
    let tiles = walls
        .replay_all("wall-1", &clock, &BTreeMap::new(), &known)
        .expect("replay");
    assert_eq!(tiles, vec![0, 5]);
    let view = walls.view("wall-1").expect("wall");
    assert!(view.replaying.iter().all(|r| r.from_ms == 7_000));
    assert_eq!(view.replaying.len(), 2);
    assert_eq!(
        view.playback,
        Some(PlaybackView {
            at_ms: 7_000,
            rate: 4.0,
            paused: true,
            starting: true
        })
    );
    assert!(walls.playback("wall-1").is_some_and(|c| c.same(&clock)));
    // One tile back to live: the other still follows the clock.
    walls.go_live("wall-1", 0, &known).expect("live");
    assert!(walls.playback("wall-1").is_some());
    walls.live_all("wall-1", &known).expect("live");
    let view = walls.view("wall-1").expect("wall");
    assert!(view.replaying.is_empty());
    assert_eq!(view.playback, None);
    assert!(walls.playback("wall-1").is_none());
    // Its tiles gone live one by one, a tile's own replay is not the old playback again.
    walls
        .replay_all("wall-1", &clock, &BTreeMap::new(), &known)
        .expect("replay");
    walls.go_live("wall-1", 0, &known).expect("live");
    walls.go_live("wall-1", 5, &known).expect("live");
    walls
        .replay("wall-1", 0, 1_000, &[], &known)
        .expect("instant replay");
    let view = walls.view("wall-1").expect("wall");
    assert_eq!(view.playback, None);
    assert!(!view.replaying[0].paced);
}
