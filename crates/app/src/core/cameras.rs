//! The cameras the hub offers: read site by site, remembered, and shown while the hub is away.

use super::*;

impl Core {
    /// Reads every site the operator may see, with its floors and cameras.
    pub async fn refresh_cameras(&self) -> Result<Vec<SiteTree>> {
        let (client, token) = self.signed()?;
        let generation = self.state.lock().generation;
        let mut sites = Vec::new();
        for summary in client.sites(&token).await? {
            let detail = client.site(&token, &summary.id).await?;
            // A hub from before recorders answers 404: its cameras are opened directly.
            let recorders = match client.recorders(&token, &summary.id).await {
                Ok(recorders) => recorders,
                Err(e) if e.code == ErrorCode::HubNotFound => Vec::new(),
                Err(e) => return Err(e),
            };
            sites.push(SiteTree::from_hub(&detail, &recorders));
        }
        {
            let mut state = self.state.lock();
            if state.generation != generation {
                return Err(AppError::new(
                    ErrorCode::Superseded,
                    "the session changed meanwhile",
                ));
            }
            state.cameras = index(&sites);
            state.sites = sites.clone();
            state.saved.sites = sites.clone();
        }
        self.save();
        self.events.emit(AppEvent::Cameras);
        Ok(sites)
    }

    /// The camera tree (what the hub said last, also while it is unreachable).
    pub fn cameras(&self) -> Vec<SiteTree> {
        self.state.lock().sites.clone()
    }
}
