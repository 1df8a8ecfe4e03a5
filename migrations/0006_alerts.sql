CREATE TABLE `alert_notifications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`alert_id` integer NOT NULL,
	`kind` text NOT NULL,
	`sink` text NOT NULL,
	`created_at` integer NOT NULL,
	`claimed_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`delivered_at` integer,
	`gave_up_at` integer,
	`last_error` text
);
--> statement-breakpoint
CREATE INDEX `alert_notifications_pending` ON `alert_notifications` (`delivered_at`,`gave_up_at`,`id`);--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`rule` text NOT NULL,
	`severity` text NOT NULL,
	`summary` text NOT NULL,
	`labels` text NOT NULL,
	`started_at` integer NOT NULL,
	`seen_at` integer NOT NULL,
	`resolved_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_open_key` ON `alerts` (`key`) WHERE resolved_at IS NULL;--> statement-breakpoint
CREATE INDEX `alerts_by_start` ON `alerts` (`started_at`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`queue` text NOT NULL,
	`summary` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dead_letters_by_time` ON `dead_letters` (`at`);--> statement-breakpoint
CREATE TABLE `leases` (
	`name` text PRIMARY KEY NOT NULL,
	`held_until` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payer_balances` (
	`chain` text PRIMARY KEY NOT NULL,
	`address` text NOT NULL,
	`balance_wei` text NOT NULL,
	`read_at` integer NOT NULL
);
