CREATE TABLE `chain_cursors` (
	`chain` text PRIMARY KEY NOT NULL,
	`next_block` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `evm_triggers` (
	`service_id` text NOT NULL,
	`workflow_id` text NOT NULL,
	`chain` text NOT NULL,
	`address` text NOT NULL,
	`event_hash` text NOT NULL,
	PRIMARY KEY(`service_id`, `workflow_id`)
);
--> statement-breakpoint
CREATE INDEX `evm_triggers_by_event` ON `evm_triggers` (`chain`,`address`,`event_hash`);--> statement-breakpoint
CREATE TABLE `saved_services` (
	`hash` text PRIMARY KEY NOT NULL,
	`json` text NOT NULL,
	`saved_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `seen_events` (
	`event_key` text PRIMARY KEY NOT NULL,
	`seen_at` integer NOT NULL,
	`done_at` integer
);
--> statement-breakpoint
CREATE TABLE `services` (
	`id` text PRIMARY KEY NOT NULL,
	`manager_chain` text NOT NULL,
	`manager_address` text NOT NULL,
	`json` text NOT NULL,
	`status` text NOT NULL,
	`registered_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`service_id` text PRIMARY KEY NOT NULL,
	`hd_index` integer NOT NULL,
	`evm_address` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `signing_keys_hd_index_unique` ON `signing_keys` (`hd_index`);--> statement-breakpoint
CREATE TABLE `task_steps` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`step` text NOT NULL,
	`at` integer NOT NULL,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `task_steps_by_event` ON `task_steps` (`event_id`,`at`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`event_id` text PRIMARY KEY NOT NULL,
	`service_id` text NOT NULL,
	`workflow_id` text NOT NULL,
	`status` text NOT NULL,
	`tx_hash` text,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tasks_by_service` ON `tasks` (`service_id`,`workflow_id`,`created_at`);