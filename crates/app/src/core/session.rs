//! Signing in and out (with the keychain and the profile), the embedded demo, and the live
//! feed's reports about the session.

use super::*;

impl Core {
    /// Tells the core where the embedded demo's parts are (the shell finds them).
    pub fn offer_demo(&self, places: demo::DemoPlaces) {
        *self.demo_places.lock() = Some(places);
    }

    /// Starts the embedded demo (a hub and a simulated site as child processes, on free
    /// ports, its data in the profile's `demo/`), signs in as its guard and puts the site's
    /// cameras on an empty wall. The demo runs until the app ends.
    pub async fn start_demo(&self) -> Result<Caller> {
        let places = self.demo_places.lock().clone().ok_or_else(|| {
            AppError::new(
                ErrorCode::NoDemo,
                "this installation has no demo (watchfloor-hub, watchfloor-sim and the demo site)",
            )
        })?;
        let stopped = self.demo.lock().take();
        if let Some(mut old) = stopped {
            tokio::task::spawn_blocking(move || old.stop())
                .await
                .map_err(|e| AppError::new(ErrorCode::Demo, e.to_string()))?;
        }
        // Starting waits for processes and ports: off the async workers.
        let stack = tokio::task::spawn_blocking(move || {
            let ports = demo::DemoPorts::free()?;
            demo::DemoStack::start(&places, ports, &|step| tracing::info!("{step}"))
        })
        .await
        .map_err(|e| AppError::new(ErrorCode::Demo, e.to_string()))?
        .map_err(|e| AppError::new(ErrorCode::Demo, e.to_string()))?;
        let password = std::fs::read_to_string(&stack.password_file)
            .map_err(|e| AppError::storage(format!("the demo password: {e}")))?;
        let request = SignIn {
            hub: stack.hub_url.clone(),
            username: "guard".into(),
            password: Some(password.trim().to_owned()),
            remember: false,
            ca_file: Some(stack.certificate.clone()),
        };
        let site = stack.site_id.clone();
        *self.demo.lock() = Some(stack);
        let operator = self.sign_in(request).await?;
        self.show_site_if_empty(&site);
        Ok(operator)
    }

    /// Puts a site's cameras on the first wall when it shows nothing yet.
    pub fn show_site_if_empty(&self, site: &str) {
        let Some(wall) = self.walls().into_iter().next() else {
            return;
        };
        if wall.state.cameras.iter().any(Option::is_some) {
            return;
        }
        let cameras = self.site_cameras(site);
        if let Err(error) = self.fill_wall(&wall.id, &cameras) {
            tracing::error!(%error, %site, "the site's cameras are not on the wall");
        }
    }

    /// Stops the embedded demo, if it runs (at exit).
    pub fn stop_demo(&self) {
        if let Some(mut stack) = self.demo.lock().take() {
            stack.stop();
        }
    }

    /// Signs in; with no password given, uses the one the keychain remembers.
    pub async fn sign_in(&self, request: SignIn) -> Result<Caller> {
        let client = HubClient::new(&request.hub, request.ca_file.as_deref())?;
        let username = request.username.trim().to_owned();
        if username.is_empty() {
            return Err(AppError::bad_input("type a user name"));
        }
        let account = Account {
            hub: client.address(),
            username: username.clone(),
        };
        let (password, typed) = match request.password.filter(|p| !p.is_empty()) {
            Some(password) => (password, true),
            None => {
                let keychain = self
                    .keychain
                    .as_ref()
                    .map_err(|e| AppError::from(e.clone()))?;
                let remembered = keychain.load(&account)?;
                (
                    remembered.ok_or_else(|| {
                        AppError::new(ErrorCode::NoPassword, "no password is remembered; type it")
                    })?,
                    false,
                )
            }
        };
        let session = client.sign_in(&username, &password).await?;
        let mut problem = None;
        if let Ok(keychain) = &self.keychain {
            let outcome = if request.remember && typed {
                keychain.save(&account, &password)
            } else if !request.remember {
                keychain.forget(&account)
            } else {
                Ok(())
            };
            if let Err(error) = outcome {
                problem = Some(format!("the password was not remembered: {error}"));
            }
        } else if request.remember {
            problem = self.keychain.as_ref().err().map(|e| e.to_string());
        }
        let operator = session.operator.clone();
        let generation = {
            let mut state = self.state.lock();
            state.saved.sign_in = Some(LastSignIn {
                hub: client.address(),
                username: username.clone(),
                ca_file: request.ca_file.clone(),
                remember: request.remember && problem.is_none(),
            });
            if let Some(problem) = problem {
                state.problems.push(problem);
            }
            state.generation += 1;
            state.session = Some(SignedIn {
                generation: state.generation,
                client: client.clone(),
                session: session.clone(),
                runtime: tokio::runtime::Handle::current(),
                _feed: None,
            });
            state.generation
        };
        self.save();
        if let Err(error) = self.refresh_cameras().await {
            // Signed in but not usable: undo, unless another sign-in came meanwhile.
            let mut state = self.state.lock();
            if state.session.as_ref().map(|s| s.generation) == Some(generation) {
                state.session = None;
            }
            return Err(error);
        }
        // The live link starts last: its first state arrives once the cameras are known.
        let mut state = self.state.lock();
        match state.session.as_mut() {
            Some(signed) if signed.generation == generation => {
                let listener: Arc<dyn FeedListener> =
                    Arc::new(Listener(self.me.clone(), generation));
                signed._feed = Some(Feed::start(
                    client,
                    session.token.clone(),
                    username,
                    listener,
                ));
                drop(state);
                // Urgent alarms nobody has acknowledged yet go up on the wall at sign-in too,
                // not only those raised while the app runs.
                if let Some(core) = self.me.upgrade() {
                    tokio::spawn(async move { core.pop_open_alarms().await });
                }
                Ok(operator)
            }
            _ => Err(AppError::new(
                ErrorCode::Superseded,
                "another sign-in or a sign-out happened meanwhile",
            )),
        }
    }

    /// Signs out (and forgets the remembered password when asked). The walls keep showing
    /// their cameras.
    pub async fn sign_out(&self, forget_password: bool) -> Result<()> {
        let signed = self.state.lock().session.take();
        let Some(signed) = signed else {
            return Ok(());
        };
        self.set_connection(ConnectionState::signed_out(now_ms(), None));
        if let Err(error) = signed.client.sign_out(&signed.session.token).await {
            tracing::warn!(%error, "the hub did not hear the sign-out; the session expires by itself");
        }
        if forget_password && let Ok(keychain) = &self.keychain {
            keychain.forget(&Account {
                hub: signed.client.address(),
                username: signed.session.operator.username.clone(),
            })?;
            if let Some(last) = self.state.lock().saved.sign_in.as_mut() {
                last.remember = false;
            }
            self.save();
        }
        Ok(())
    }

    pub(super) fn set_connection(&self, connection: ConnectionState) {
        self.state.lock().connection = connection.clone();
        self.events.emit(AppEvent::Connection { state: connection });
    }

    pub fn connection(&self) -> ConnectionState {
        self.state.lock().connection.clone()
    }

    /// A stream ticket for a camera served by a recorder, as the media engine's credentials.
    /// Blocks: called on a stream's own thread before each connection, never on the runtime.
    pub(crate) fn stream_ticket_blocking(
        &self,
        site: &str,
        camera: &str,
        stream: contract::StreamName,
        mode: contract::StreamMode,
    ) -> std::result::Result<media::Credentials, String> {
        let (client, token, runtime, generation) = {
            let state = self.state.lock();
            let signed = state
                .session
                .as_ref()
                .ok_or_else(|| "not signed in to the hub".to_owned())?;
            (
                signed.client.clone(),
                signed.session.token.clone(),
                signed.runtime.clone(),
                signed.generation,
            )
        };
        let key = (site.to_owned(), camera.to_owned(), stream, mode);
        if let Some((made_for, at, credentials)) = self.tickets.lock().get(&key)
            && *made_for == generation
            && at.elapsed() < std::time::Duration::from_secs(60)
        {
            return Ok(credentials.clone());
        }
        let ticket = runtime
            .block_on(client.stream_ticket(&token, site, camera, stream, mode))
            .map_err(|e| e.to_string())?;
        let credentials = media::Credentials {
            user: ticket.user,
            password: ticket.ticket,
        };
        let mut tickets = self.tickets.lock();
        tickets.retain(|_, (made_for, at, _)| {
            *made_for == generation && at.elapsed() < std::time::Duration::from_secs(60)
        });
        tickets.insert(key, (generation, Instant::now(), credentials.clone()));
        Ok(credentials)
    }

    pub(super) fn signed(&self) -> Result<(HubClient, crate::hub_client::Token)> {
        let state = self.state.lock();
        let signed = state.session.as_ref().ok_or_else(AppError::not_signed_in)?;
        Ok((signed.client.clone(), signed.session.token.clone()))
    }
}

/// The feed reports to the core, which may be gone (no cycle keeps it alive), about the
/// sign-in it was started for; reports about an older sign-in are dropped.
struct Listener(Weak<Core>, u64);

impl Listener {
    pub(super) fn core(&self) -> Option<Arc<Core>> {
        let core = self.0.upgrade()?;
        let current = core.state.lock().session.as_ref().map(|s| s.generation);
        (current == Some(self.1)).then_some(core)
    }
}

impl FeedListener for Listener {
    fn state(&self, state: ConnectionState) {
        if let Some(core) = self.core() {
            let was = core.state.lock().connection.link;
            core.set_connection(state.clone());
            if state.link == Link::Online {
                // Back online after a gap: the cameras may have changed meanwhile, and what
                // was written offline goes out now.
                let refresh = was == Link::Reconnecting;
                tokio::spawn(async move {
                    if refresh && let Err(error) = core.refresh_cameras().await {
                        tracing::warn!(%error, "cameras not refreshed");
                    }
                    core.deliver_outbox().await;
                });
            }
        }
    }

    fn change(&self, change: Change) {
        let Some(core) = self.core() else {
            return;
        };
        match &change.body {
            ChangeBody::Alarm(alarm) => {
                core.alarm_changed(&alarm.id, alarm.state, alarm.priority, &alarm.cameras)
            }
            ChangeBody::Layout(_) | ChangeBody::LayoutRemoved(_) => {
                core.events.emit(AppEvent::Layouts)
            }
            ChangeBody::Site(_) => {
                tokio::spawn(async move {
                    if let Err(error) = core.refresh_cameras().await {
                        tracing::warn!(%error, "cameras not refreshed");
                    }
                });
                return;
            }
            _ => {}
        }
        core.events.emit(AppEvent::HubChange {
            change: Box::new(change),
        });
    }

    fn session_ended(&self, reason: String) {
        if let Some(core) = self.core() {
            core.state.lock().session = None;
            core.set_connection(ConnectionState::signed_out(
                now_ms(),
                Some(format!("the hub ended the session: {reason}")),
            ));
        }
    }
}
