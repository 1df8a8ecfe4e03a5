CREATE TABLE `service_upgrades` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`service_id` text NOT NULL,
	`chain` text NOT NULL,
	`manager_address` text NOT NULL,
	`uri` text NOT NULL,
	`event_key` text NOT NULL,
	`status` text NOT NULL,
	`json` text,
	`changes` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `service_upgrades_event_key_unique` ON `service_upgrades` (`event_key`);--> statement-breakpoint
CREATE INDEX `service_upgrades_by_status` ON `service_upgrades` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `service_upgrades_by_service` ON `service_upgrades` (`service_id`);