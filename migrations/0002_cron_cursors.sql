CREATE TABLE `cron_cursors` (
	`service_id` text NOT NULL,
	`workflow_id` text NOT NULL,
	`after_ns` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`service_id`, `workflow_id`)
);
