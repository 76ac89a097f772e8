/*
 * server.c: the worker threads, which take FastCGI connections from one epoll
 * set themselves, and the signal thread.
 *
 * nginx keeps FastCGI connections open between requests (fastcgi_keep_conn
 * with an upstream keepalive pool).  A worker thread must not sit on an idle
 * kept connection, or a pool of idle connections would pin every thread
 * while new connections wait.  So every connection, and the listening
 * socket, is in one epoll set with EPOLLONESHOT, and the workers themselves
 * wait in epoll_wait for one event each: the kernel wakes exactly one
 * waiting worker per ready connection (epoll waiters are exclusive), which
 * reads and answers one request on it, then gives it back to the set if
 * nginx keeps it open.  Idle connections cost a file descriptor, never a
 * thread, and a request costs one thread wake-up (no hand-off from a
 * dispatcher thread to a worker).
 *
 * Every worker owns an FCGX_Request, an arena and a MariaDB handle.
 * Signals are blocked in all threads and taken by the main thread with
 * sigwait(): SIGHUP reloads templates and plugins (app_reload); SIGTERM /
 * SIGINT stop accepting, let workers finish the requests in flight and the
 * ones already waiting on ready connections, and return.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "app.h"
#include "arena.h"
#include "cleanup.h"
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "queue.h"
#include "request.h"
#include "server.h"
#include "session.h"

struct server {
	struct app *app;
	unsigned long long requests;   /* answered, for the log line at stop */
	int listen_fd;
	int epfd;
	int stop_fd;                /* eventfd, level-triggered: stop */
};

struct worker {
	struct server *srv;
	pthread_t thread;
	int index;
};

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

/* Give a connection (kept alive by nginx, or new) to the epoll set: the
 * next worker to wait takes its next request. */
static void conn_rearm(struct server *srv, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.u64 = (uint32_t)fd };

	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)) {
		log_warn("epoll_ctl: %s; closing a kept connection", strerror(errno));
		close(fd);
	}
}

/* An epoll entry of a connection that is only waiting to be closed. */
#define CONN_CLOSING (1ull << 32)

/* A request was answered without reading its body (refused before it was
 * allowed): shut down our side, so nginx reads the answer and then EOF, and
 * close the connection once nginx has closed its end.  The body left in the
 * socket is never read; closing at once would make nginx's pending write
 * fail and turn the answer into a 502. */
static void conn_linger(struct server *srv, int fd)
{
	struct epoll_event ev = { .events = EPOLLRDHUP | EPOLLONESHOT,
	    .data.u64 = CONN_CLOSING | (uint32_t)fd };

	if (shutdown(fd, SHUT_WR) < 0 ||
	    (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)))
		close(fd);
}

/* The listening socket back in the set for the next connection. */
static void listen_rearm(struct server *srv)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = (uint32_t)srv->listen_fd };

	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, srv->listen_fd, &ev) < 0)
		log_error("epoll_ctl (listening socket): %s; no new connections are accepted",
		    strerror(errno));
}

/* One new connection from the listening socket (which goes back to the set
 * at once, so that other workers accept in parallel), or -1. */
static int conn_accept(struct server *srv, int stopping)
{
	int c = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED && !stopping)
		log_warn("accept: %s", strerror(errno));
	if (!stopping)
		listen_rearm(srv);
	return c;
}

/* Read and answer one request on fd, then give the connection back to the
 * set (or close it: nginx did not keep it, or labeld is stopping). */
static void conn_serve(struct server *srv, FCGX_Request *req, struct arena *arena,
    struct db *db, int fd, int stopping)
{
	/* keepConnection set beforehand keeps FCGX_Accept_r's opening Finish
	 * from closing the fd. */
	req->ipcFd = fd;
	req->keepConnection = 1;
	if (FCGX_Accept_r(req) < 0) {
		/* The peer closed it or sent garbage; libfcgi closed it. */
		req->ipcFd = -1;
		return;
	}
	int unread = request_handle(srv->app, req, arena, db);
	__atomic_add_fetch(&srv->requests, 1, __ATOMIC_RELAXED);
	arena_reset(arena);
	FCGX_Finish_r(req);           /* closes unless nginx keeps it */
	if (req->ipcFd >= 0) {
		fd = req->ipcFd;
		req->ipcFd = -1;
		/* A request refused before its body was read: the rest of the
		 * body is never read (conn_linger). */
		if (stopping)
			close(fd);
		else if (unread)
			conn_linger(srv, fd);
		else
			conn_rearm(srv, fd);
	}
}

static int server_stopping(struct server *srv)
{
	return __atomic_load_n(&srv->app->stopping, __ATOMIC_RELAXED) != 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct app *app = srv->app;
	struct db_config dc;
	struct epoll_event evs[16];
	struct db *db;
	struct arena *arena;
	FCGX_Request req;
	uint64_t one = 1;

	db_thread_init();
	db_config_from(&app->cfg, &dc);
	db = db_new(&dc);
	arena = arena_new();
	/* listen_sock -1: libfcgi never accepts in a worker; conn_accept
	 * does.  (When libfcgi gives up on a connection it tries to accept,
	 * which fails at once on -1, and FCGX_Accept_r returns < 0.) */
	if (db == NULL || arena == NULL || FCGX_InitRequest(&req, -1, 0) != 0) {
		log_error("worker %d: out of memory at start", w->index);
		db_free(db);
		arena_free(arena);
		db_thread_end();
		return NULL;
	}
	/* Connect early so the first request does not pay for it; a database
	 * that is down now is retried by the requests that need it. */
	(void)db_ensure(db);

	/* One event at a time: a ready connection another worker could
	 * answer is not held back behind this one's request.  The timeout
	 * only bounds how long a stop can go unseen. */
	for (;;) {
		int n = epoll_wait(srv->epfd, evs, 1, 1000), fd;
		if (n < 0 && errno != EINTR) {
			/* Cannot happen with a valid set; never let it stop
			 * the server or spin. */
			struct timespec pause = { 0, 100 * 1000 * 1000 };
			log_error("worker %d: epoll_wait: %s", w->index, strerror(errno));
			nanosleep(&pause, NULL);
			continue;
		}
		if (n <= 0) {
			if (server_stopping(srv))
				break;
			continue;
		}
		fd = (int)(uint32_t)evs[0].data.u64;
		if (evs[0].data.u64 & CONN_CLOSING) {
			close(fd);
			continue;
		}
		if (fd == srv->stop_fd)
			break;
		if (fd == srv->listen_fd && (fd = conn_accept(srv, server_stopping(srv))) < 0)
			continue;
		conn_serve(srv, &req, arena, db, fd, server_stopping(srv));
	}
	/* Stopping: wake the next waiting worker (each stop wakes one), then
	 * answer the requests that already arrived on ready connections. */
	if (write(srv->stop_fd, &one, sizeof(one)) < 0)
		log_warn("stop: eventfd write: %s", strerror(errno));
	for (;;) {
		int n = epoll_wait(srv->epfd, evs, 16, 0), served = 0;
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			if (evs[i].data.u64 & CONN_CLOSING) {
				close(fd);
				continue;
			}
			if (fd == srv->stop_fd || fd == srv->listen_fd)
				continue;
			conn_serve(srv, &req, arena, db, fd, 1);
			served++;
		}
		if (served == 0)
			break;
	}
	FCGX_Free(&req, 1);
	request_thread_end();
	db_free(db);
	arena_free(arena);
	db_thread_end();
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
	struct server srv;
	struct worker *workers = NULL;
	struct epoll_event ev;
	sigset_t set;
	int sig, started = 0, status = 0;

	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	/* The signals we handle are blocked everywhere and taken by sigwait
	 * in this thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&srv, 0, sizeof(srv));
	srv.app = app;
	srv.listen_fd = listen_open(c);
	if (srv.listen_fd < 0)
		return 1;
	if (fcntl(srv.listen_fd, F_SETFL, fcntl(srv.listen_fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    (srv.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (srv.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		log_error("server setup: %s", strerror(errno));
		return 1;
	}
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = (uint32_t)srv.listen_fd };
	epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.listen_fd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = (uint32_t)srv.stop_fd };
	epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.stop_fd, &ev);

	/* Before any worker runs: the setting `combine` (docs/labeling.md). */
	queue_set_combine(c->combine);
	if (!c->combine)
		log_info("combine = off: every lease and answer in its own transaction");
	workers = calloc(c->workers, sizeof(*workers));
	if (workers == NULL) {
		log_error("out of memory");
		return 1;
	}
	for (unsigned i = 0; i < c->workers; i++) {
		workers[i].srv = &srv;
		workers[i].index = (int)i;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			log_error("pthread_create: cannot start worker %u", i);
			status = 1;
			break;
		}
		started++;
	}
	if (status != 0) {
		app->stopping = 1;
		uint64_t one = 1;
		if (write(srv.stop_fd, &one, sizeof(one)) < 0)
			log_warn("stop: eventfd write: %s", strerror(errno));
		for (int i = 0; i < started; i++)
			pthread_join(workers[i].thread, NULL);
		free(workers);
		return 1;
	}

	if (jobs_start(app) < 0)
		log_error("the job thread did not start; jobs wait for another labeld");
	if (cleanup_start(app) < 0)
		log_error("the cleanup thread did not start; expired sessions stay until another labeld deletes them");

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

	unsigned long long lb, ln, sb, sn, careful;
	struct rusage ru;

	/* Stop accepting at once; the workers finish the requests in flight
	 * and those already waiting on ready connections, then exit. */
	shutdown(srv.listen_fd, SHUT_RDWR);
	uint64_t one = 1;
	if (write(srv.stop_fd, &one, sizeof(one)) < 0)
		log_warn("stop: eventfd write: %s", strerror(errno));
	for (int i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	jobs_stop(app);
	cleanup_stop();
	free(workers);
	close(srv.epfd);
	close(srv.stop_fd);
	if (srv.listen_fd != 0) {
		close(srv.listen_fd);
		unlink(c->socket);
	}
	queue_batch_stats(&lb, &ln, &sb, &sn, &careful);
	if (ln + sn > 0)
		log_info("labeling: %llu leases in %llu transactions, %llu answers in %llu "
		    "(%llu of them refused and stored answer by answer)", ln, lb, sn, sb, careful);
	session_lookup_stats(&lb, &ln);
	if (ln > 0)
		log_info("sessions: %llu lookups in %llu statements", ln, lb);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		log_info("stopped after %llu requests; CPU time %.2f s user, %.2f s system",
		    srv.requests, (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	else
		log_info("stopped after %llu requests", srv.requests);
	return status;
}
