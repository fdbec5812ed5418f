//! Events: the filtered, newest-first list.

use super::*;

impl Hub {
    pub async fn list_events(&self, caller: &Caller, filter: EventFilter) -> Result<Vec<Event>> {
        let site = filter
            .site
            .ok_or_else(|| HubError::BadRequest("`site` is required".into()))?;
        check_id("site", &site)?;
        caller.require(&site, Right::View)?;
        let mut sql = String::from(
            "SELECT site_id, source, id, kind, event_type, topic, door_id, camera_id, at, received_at, body \
             FROM events WHERE site_id = $1",
        );
        let mut texts: Vec<String> = Vec::new();
        let mut times: Vec<i64> = Vec::new();
        if let Some(kind) = filter.kind {
            if !EVENT_KINDS.contains(&kind.as_str()) {
                return Err(HubError::BadRequest(format!(
                    "kind must be one of {}",
                    EVENT_KINDS.join(", ")
                )));
            }
            texts.push(kind);
            sql.push_str(&format!(" AND kind = ${}", 1 + texts.len()));
        }
        if let Some(door) = filter.door {
            check_id("door", &door)?;
            texts.push(door);
            sql.push_str(&format!(" AND door_id = ${}", 1 + texts.len()));
        }
        if let Some(from) = filter.from {
            times.push(crate::parse_time(&from)?);
            sql.push_str(&format!(" AND at >= ${}", 1 + texts.len() + times.len()));
        }
        if let Some(to) = filter.to {
            times.push(crate::parse_time(&to)?);
            sql.push_str(&format!(" AND at < ${}", 1 + texts.len() + times.len()));
        }
        sql.push_str(&format!(
            " ORDER BY at DESC, id DESC, source DESC LIMIT ${}",
            2 + texts.len() + times.len()
        ));
        let mut query = sqlx::query(&sql).bind(&site);
        for text in &texts {
            query = query.bind(text);
        }
        for time in &times {
            query = query.bind(*time);
        }
        query
            .bind(limit(filter.limit))
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }
}
