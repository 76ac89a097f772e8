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

#   bench_label NAME page|submit|lease|cycle|weight
#
# The labeling rows (see "Labeling rows" in tests/bench/README.md), on
# multiclass projects of 100 000 items (tests/bench/label.lua drives wrk):
# "page": 32 signed-in labelers GET their labeling page again and again
# (the lease they hold found again, the page rendered); "submit": POSTs of
# answers to leases held by 100 000 labelers, one lease per request;
# "lease": each request is one of 100 000 new labelers' first GET (a lease
# taken, the page rendered; no goal); "cycle": 32 labelers GET a new lease,
# POST its answer, and again (no goal); "weight": bytes of the labeling
# page's HTML + CSS + JS for each task type.

bench_label label-page        page
bench_label label-submit      submit
bench_label label-lease       lease
bench_label label-cycle       cycle
bench_label label-page-weight weight

#   bench_flood NAME
#
# The image-flood row (tests/bench/image_flood.py measures; see "image-flood"
# in tests/bench/README.md): 64 parallel GETs of a 50 MB image that labeld
# streams itself (a local datastore that is not the default one), with
# /healthz asked every 10 ms alongside; rss_growth_mb (labeld's peak
# resident memory growth, goal <= 64) and healthz_p99_ms (goal <= 50).

bench_flood image-flood
