CREATE TABLE `chains` (
	`key` text PRIMARY KEY NOT NULL,
	`config` text NOT NULL,
	`added_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `dropped_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source` text NOT NULL,
	`chain` text NOT NULL,
	`event_key` text NOT NULL,
	`reason` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dropped_events_by_time` ON `dropped_events` (`at`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`source` text NOT NULL,
	`delivery_id` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`source`, `delivery_id`)
);
