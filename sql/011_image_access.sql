-- 011_image_access: which item's image a labeler may load to prefetch it.
--
-- A labeler sees the image of an item they hold, of one they answered, and
-- of the one item the labeling page named for prefetching when they took
-- the lease they hold now (docs/labeling.md, "Who sees an image").  That
-- item is written here with the lease (queue_lease_next: the next free item
-- after the leased one, or NULL when there was none) and is good only while
-- the lease in item_id is still the labeler's.  It reserves nothing: anyone
-- may still be handed the item.
ALTER TABLE labeler_leases ADD COLUMN IF NOT EXISTS next_item_id BIGINT UNSIGNED NULL;
