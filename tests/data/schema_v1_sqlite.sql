-- The schema the first release created (bot/store.py, SCHEMA_VERSION = 1), for sqlite.

-- Generated from that release's metadata with SQLAlchemy's DDL compiler (do not edit).

CREATE TABLE chats (
	chat_id BIGINT NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	title VARCHAR(256) NOT NULL, 
	script VARCHAR(16), 
	progress INTEGER NOT NULL, 
	read_mask BIGINT NOT NULL, 
	active BOOLEAN NOT NULL, 
	subscribed BOOLEAN NOT NULL, 
	delivery_time VARCHAR(5), 
	timezone VARCHAR(64), 
	quiet BOOLEAN NOT NULL, 
	thread_id BIGINT, 
	next_due_at BIGINT, 
	claimed_until BIGINT, 
	claim_token VARCHAR(36), 
	failures INTEGER NOT NULL, 
	finished BOOLEAN NOT NULL, 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (chat_id)
);

CREATE INDEX ix_chats_due ON chats (next_due_at);

CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value VARCHAR(256) NOT NULL, 
	PRIMARY KEY ("key")
);

CREATE TABLE users (
	user_id BIGINT NOT NULL, 
	script VARCHAR(16), 
	updated_at BIGINT NOT NULL, 
	PRIMARY KEY (user_id)
);

INSERT INTO meta (key, value) VALUES ('schema_version', '1');
