/*
 * server.c: worker threads around FCGX_Accept_r, and the signal thread.
 *
 * Every worker owns an FCGX_Request, an arena and a MariaDB handle.  Signals
 * are blocked in all threads and taken by one thread with sigwait():
 *  - SIGHUP reloads templates and plugins (app_reload);
 *  - SIGTERM/SIGINT stop accepting (shutdown() on the listening socket wakes
 *    workers blocked in accept()), then wake workers idle on a kept-alive
 *    nginx connection with SIGUSR1 (its handler does nothing; the read is
 *    interrupted), while workers in the middle of a request finish it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "log.h"
#include "request.h"
#include "server.h"

struct worker {
	struct app *app;
	pthread_t thread;
	int index;
	int listen_fd;
	volatile sig_atomic_t busy;   /* inside a request */
	volatile sig_atomic_t done;
};

static void wake_handler(int sig)
{
	(void)sig;
}

static void db_config_from(const struct config *c, struct db_config *d)
{
	memset(d, 0, sizeof(*d));
	d->socket = c->db_socket;
	d->host = c->db_host;
	d->port = c->db_port;
	d->user = c->db_user;
	d->password = c->db_password;
	d->name = c->db_name;
	d->connect_timeout = c->db_connect_timeout;
	d->rw_timeout = c->db_rw_timeout;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct app *app = w->app;
	struct db_config dc;
	struct db *db;
	struct arena *arena;
	FCGX_Request req;
	sigset_t wake;

	sigemptyset(&wake);
	sigaddset(&wake, SIGUSR1);

	db_thread_init();
	db_config_from(&app->cfg, &dc);
	db = db_new(&dc);
	arena = arena_new();
	if (db == NULL || arena == NULL || FCGX_InitRequest(&req, w->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("worker %d: out of memory at start", w->index);
		db_free(db);
		arena_free(arena);
		db_thread_end();
		w->done = 1;
		return NULL;
	}
	/* Connect early so the first request does not pay for it; a database
	 * that is down now is retried by the requests that need it. */
	(void)db_ensure(db);

	while (!app->stopping) {
		/* SIGUSR1 may interrupt waiting for a request, never a request:
		 * it stays blocked (pending) outside FCGX_Accept_r. */
		pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
		int rc = FCGX_Accept_r(&req);
		pthread_sigmask(SIG_BLOCK, &wake, NULL);
		if (rc < 0) {
			if (app->stopping)
				break;
			if (rc != -EINTR) {
				log_warn("worker %d: accept failed: %s", w->index, strerror(-rc));
				struct timespec ts = { 0, 100 * 1000 * 1000 };
				nanosleep(&ts, NULL);
			}
			continue;
		}
		w->busy = 1;
		request_handle(app, &req, arena, db);
		arena_reset(arena);
		FCGX_Finish_r(&req);
		w->busy = 0;
	}
	FCGX_Free(&req, 1);
	db_free(db);
	arena_free(arena);
	db_thread_end();
	w->done = 1;
	return NULL;
}

/* The listening socket: fd 0 when it is a socket and socket = "-" (or when
 * we were started with a socket on fd 0, e.g. by spawn-fcgi / systemd). */
static int listen_open(const struct config *c)
{
	struct sockaddr_un sa;
	int fd;
	mode_t old;

	if (strcmp(c->socket, "-") == 0) {
		struct stat st;
		if (fstat(0, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			log_error("socket = '-' but fd 0 is not a socket");
			return -1;
		}
		log_info("serving FastCGI on the socket passed as fd 0");
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	/* A socket file left by a previous run is stale only when nobody
	 * answers on it: never steal a live instance's socket. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_error("%s: another labeld is listening there", c->socket);
		close(fd);
		return -1;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	unlink(c->socket);
	old = umask(0777 & ~c->socket_mode);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		log_error("bind %s: %s", c->socket, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(c->socket, c->socket_mode) < 0)
		log_warn("chmod %s: %s", c->socket, strerror(errno));
	if (listen(fd, (int)c->socket_backlog) < 0) {
		log_error("listen %s: %s", c->socket, strerror(errno));
		close(fd);
		return -1;
	}
	log_info("listening on %s with %u workers", c->socket, c->workers);
	return fd;
}

int server_run(struct app *app)
{
	const struct config *c = &app->cfg;
	struct worker *workers;
	struct sigaction sa;
	sigset_t set;
	int fd, sig, started = 0, status = 0;

	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	/* All signals we handle are blocked everywhere and taken by sigwait
	 * below; SIGUSR1 is unblocked in workers only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler;   /* no SA_RESTART: interrupt the read */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fd = listen_open(c);
	if (fd < 0)
		return 1;
	workers = calloc(c->workers, sizeof(*workers));
	if (workers == NULL) {
		log_error("out of memory");
		return 1;
	}
	for (unsigned i = 0; i < c->workers; i++) {
		workers[i].app = app;
		workers[i].index = (int)i;
		workers[i].listen_fd = fd;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			log_error("pthread_create: cannot start worker %u", i);
			app->stopping = 1;
			status = 1;
			break;
		}
		started++;
	}

	sigdelset(&set, SIGUSR1);
	while (!app->stopping) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			char err[1024];
			log_info("SIGHUP: reloading templates and plugins");
			if (app_reload(app, err, sizeof(err)) < 0)
				log_error("reload failed, keeping the running set: %s", err);
		} else {
			log_info("%s: finishing requests in flight, then stopping",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			app->stopping = 1;
		}
	}

	/* Stop accepting: wakes workers blocked in accept(). */
	shutdown(fd, SHUT_RDWR);
	for (;;) {
		int alive = 0;
		for (int i = 0; i < started; i++) {
			if (workers[i].done)
				continue;
			alive++;
			/* Idle on a kept-alive connection: interrupt the read.
			 * Busy: let it finish the request; it checks `stopping`. */
			if (!workers[i].busy)
				pthread_kill(workers[i].thread, SIGUSR1);
		}
		if (alive == 0)
			break;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	free(workers);
	if (fd != 0) {
		close(fd);
		unlink(c->socket);
	}
	log_info("stopped");
	return status;
}
