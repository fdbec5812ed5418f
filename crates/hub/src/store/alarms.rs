//! Alarms: the list and one alarm, and what operators do to them (acknowledge, forward,
//! close), each once per client-made id.

use super::*;

impl Hub {
    pub async fn list_alarms(&self, caller: &Caller, filter: AlarmFilter) -> Result<Vec<Alarm>> {
        let site = filter
            .site
            .ok_or_else(|| HubError::BadRequest("`site` is required".into()))?;
        check_id("site", &site)?;
        caller.require(&site, Right::View)?;
        let state = filter
            .state
            .map(|s| {
                AlarmState::parse(&s).ok_or_else(|| {
                    HubError::BadRequest("state must be new, acknowledged or closed".into())
                })
            })
            .transpose()?;
        // Conditions only when asked for, so that SQLite and PostgreSQL read the same typed
        // statement.
        let mut sql = format!("{ALARM_SELECT} WHERE site_id = $1");
        let mut at = 2;
        if state.is_some() {
            sql.push_str(&format!(" AND state = ${at}"));
            at += 1;
        }
        let mut times = Vec::new();
        for (op, value) in [(">=", &filter.from), ("<", &filter.to)] {
            if let Some(value) = value {
                times.push(crate::parse_time(value)?);
                sql.push_str(&format!(" AND raised_at {op} ${at}"));
                at += 1;
            }
        }
        sql.push_str(&format!(" ORDER BY priority, raised_at DESC LIMIT ${at}"));
        let mut query = sqlx::query(&sql).bind(&site);
        if let Some(state) = state {
            query = query.bind(state.as_str());
        }
        for time in times {
            query = query.bind(time);
        }
        let rows = query
            .bind(limit(filter.limit))
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(alarm_from_row).collect()
    }

    pub async fn alarm(&self, caller: &Caller, id: &str) -> Result<Alarm> {
        check_id("alarm", id)?;
        let alarm = self.alarm_unchecked(self.db.pool(), id).await?;
        caller.require(&alarm.site, Right::View)?;
        Ok(alarm)
    }

    pub(super) async fn alarm_unchecked<'e, E>(&self, executor: E, id: &str) -> Result<Alarm>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let row = sqlx::query(&format!("{ALARM_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(executor)
            .await?
            .ok_or_else(|| HubError::NotFound(format!("alarm `{}`", clip(id))))?;
        alarm_from_row(&row)
    }

    /// Acknowledges, forwards or closes an alarm.
    pub async fn act_on_alarm(
        &self,
        caller: &Caller,
        id: &str,
        verb: AlarmVerb,
        action: AlarmAction,
    ) -> Result<Alarm> {
        check_id("alarm", id)?;
        check_text("comment", &action.comment, 4000)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let alarm = self.alarm_unchecked(tx.conn(), id).await?;
        let right = match verb {
            AlarmVerb::Acknowledge => Right::AcknowledgeAlarm,
            AlarmVerb::Forward => Right::ForwardAlarm,
            AlarmVerb::Close => Right::CloseAlarm,
        };
        caller.require(&alarm.site, right)?;
        let scope = format!("{}:{id}", verb.action());
        if let Some(previous) = self
            .replayed(&mut tx, caller, &scope, &action.request_id)
            .await?
        {
            return serde_json::from_value(previous).map_err(|e| HubError::Internal(e.to_string()));
        }
        match verb {
            AlarmVerb::Acknowledge => {
                if alarm.state != AlarmState::New {
                    return Err(HubError::Conflict(format!(
                        "alarm is already {}",
                        alarm.state.as_str()
                    )));
                }
                sqlx::query(
                    "UPDATE alarms SET state = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2, \
                     acknowledge_comment = $3 WHERE id = $4",
                )
                .bind(&caller.username)
                .bind(now)
                .bind(&action.comment)
                .bind(id)
                .execute(tx.conn())
                .await?;
            }
            AlarmVerb::Forward => {
                let to = action
                    .to
                    .as_deref()
                    .ok_or_else(|| HubError::BadRequest("forwarding needs `to`".into()))?;
                check_id("to", to)?;
                let exists = sqlx::query("SELECT id FROM users WHERE username = $1")
                    .bind(to)
                    .fetch_optional(tx.conn())
                    .await?;
                if exists.is_none() {
                    return Err(HubError::BadRequest(format!("no user `{to}`")));
                }
                if alarm.state == AlarmState::Closed {
                    return Err(HubError::Conflict("alarm is closed".into()));
                }
                sqlx::query("UPDATE alarms SET forwarded_to = $1 WHERE id = $2")
                    .bind(to)
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
            }
            AlarmVerb::Close => {
                if alarm.state == AlarmState::Closed {
                    return Err(HubError::Conflict("alarm is already closed".into()));
                }
                sqlx::query(
                    "UPDATE alarms SET state = 'closed', closed_by = $1, closed_at = $2, close_comment = $3 \
                     WHERE id = $4",
                )
                .bind(&caller.username)
                .bind(now)
                .bind(&action.comment)
                .bind(id)
                .execute(tx.conn())
                .await?;
            }
        }
        let updated = self.alarm_unchecked(tx.conn(), id).await?;
        let body = json!(updated);
        tx.change(now, Some(&updated.site), ChangeBody::Alarm(updated.clone()))
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: verb.action(),
            site: Some(&updated.site),
            target: Some(id),
            detail: json!({"comment": action.comment, "to": action.to}),
        })
        .await?;
        self.remember(&mut tx, caller, &scope, &action.request_id, &body)
            .await?;
        tx.commit().await?;
        Ok(updated)
    }
}

/// Which alarm action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmVerb {
    Acknowledge,
    Forward,
    Close,
}

impl AlarmVerb {
    pub(super) fn action(self) -> &'static str {
        match self {
            AlarmVerb::Acknowledge => "alarm.acknowledge",
            AlarmVerb::Forward => "alarm.forward",
            AlarmVerb::Close => "alarm.close",
        }
    }
}
