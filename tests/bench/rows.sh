# tests/bench/rows.sh: the rows of `./stack bench`, sourced by ./stack.
#
#   bench_init NAME SOURCE
#
# A project initialization row (value in items/s, its own table): SOURCE
# "local" initializes 100 000 generated images (tests/bench/gen_images.c) in
# nested folders of a local datastore, "azurite" 100 000 tiny image blobs in
# an Azurite container (tests/bench/blob_list_bench.c uploads them and
# times one full listing first).  The data is prepared once and kept in
# var/bench/; see tests/bench/README.md.

bench_init init-local-100k   local
bench_init init-azurite-100k azurite

#   bench_init_mem NAME FILES
#
# An initialization row over FILES generated local images (made once, like
# init-local-100k's) that also reports labeld's peak resident memory growth
# during the job (tests/bench/init_mem.py; goal: at most 64 MiB).

bench_init_mem init-local-1m 1000000

#   bench_flood NAME
#
# The image-flood row (tests/bench/image_flood.py measures; see "image-flood"
# in tests/bench/README.md): 64 parallel GETs of a 50 MB image that labeld
# streams itself (a local datastore that is not the default one), with
# /healthz asked every 10 ms alongside; rss_growth_mb (labeld's peak
# resident memory growth, goal <= 64) and healthz_p99_ms (goal <= 50).

bench_flood image-flood
