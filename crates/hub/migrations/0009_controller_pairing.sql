-- Watchfloor hub schema, version 9: door commands signed for the site's controller.

-- The event source the site's door controller sends as: the hub signs each door command with a
-- key derived from that source's secret, and the controller takes only signed commands, once.
-- A site with a controller but no source is sent no commands.
ALTER TABLE sites ADD COLUMN controller_source TEXT;
