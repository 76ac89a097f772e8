/*
 * server.c: the FastCGI connection dispatcher, the worker threads, and the
 * signal thread.
 *
 * nginx keeps FastCGI connections open between requests (fastcgi_keep_conn
 * with an upstream keepalive pool).  A worker thread must not sit on an idle
 * kept connection, or a pool of idle connections would pin every thread
 * while new connections wait.  So one dispatcher thread watches the
 * listening socket and every idle connection with epoll; a connection that
 * becomes readable (a new one, or a kept one with the next request) goes to
 * a queue, and the next free worker reads and answers one request on it,
 * then hands it back to epoll (EPOLLONESHOT) if nginx keeps it open.  Idle
 * connections cost a file descriptor, never a thread.
 *
 * Every worker owns an FCGX_Request, an arena and a MariaDB handle.
 * Signals are blocked in all threads and taken by the main thread with
 * sigwait(): SIGHUP reloads templates and plugins (app_reload); SIGTERM /
 * SIGINT stop accepting, let workers finish the requests in flight and the
 * ones already queued, and return.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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
#include "db.h"
#include "jobs.h"
#include "log.h"
#include "queue.h"
#include "request.h"
#include "server.h"
#include "session.h"

/* Connections ready for a worker: a ring of fds. */
struct conn_queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	int *fds;
	size_t cap, head, n;
	int closed;                 /* no more pushes; workers drain, then exit */
};

struct server {
	struct app *app;
	unsigned long long requests;   /* answered, for the log line at stop */
	int listen_fd;
	int epfd;
	int stop_fd;                /* eventfd: wakes the dispatcher to stop */
	struct conn_queue q;
};

struct worker {
	struct server *srv;
	pthread_t thread;
	int index;
};

static int queue_init(struct conn_queue *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->fds = calloc(cap, sizeof(*q->fds));
	if (q->fds == NULL)
		return -1;
	q->cap = cap;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
	return 0;
}

/* Queue a ready connection; when the queue is full (more ready connections
 * than its capacity) it grows.  -1 when closed or out of memory: the caller
 * closes the fd. */
static int queue_push(struct conn_queue *q, int fd)
{
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	if (q->closed) {
		rc = -1;
	} else {
		if (q->n == q->cap) {
			int *fds = calloc(q->cap * 2, sizeof(*fds));
			if (fds == NULL) {
				pthread_mutex_unlock(&q->lock);
				return -1;
			}
			for (size_t i = 0; i < q->n; i++)
				fds[i] = q->fds[(q->head + i) % q->cap];
			free(q->fds);
			q->fds = fds;
			q->head = 0;
			q->cap *= 2;
		}
		q->fds[(q->head + q->n) % q->cap] = fd;
		q->n++;
		pthread_cond_signal(&q->ready);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* The next ready connection, or -1 once the queue is closed and empty. */
static int queue_pop(struct conn_queue *q)
{
	int fd = -1;

	pthread_mutex_lock(&q->lock);
	while (q->n == 0 && !q->closed)
		pthread_cond_wait(&q->ready, &q->lock);
	if (q->n > 0) {
		fd = q->fds[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
	}
	pthread_mutex_unlock(&q->lock);
	return fd;
}

static void queue_close(struct conn_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
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

/* Give an idle kept-alive connection back to the dispatcher. */
static void conn_rearm(struct server *srv, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.fd = fd };

	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)) {
		log_warn("epoll_ctl: %s; closing a kept connection", strerror(errno));
		close(fd);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;
	struct app *app = srv->app;
	struct db_config dc;
	struct db *db;
	struct arena *arena;
	FCGX_Request req;
	int fd;

	db_thread_init();
	db_config_from(&app->cfg, &dc);
	db = db_new(&dc);
	arena = arena_new();
	/* listen_sock -1: libfcgi never accepts in a worker; the dispatcher
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

	while ((fd = queue_pop(&srv->q)) >= 0) {
		/* Read the next request from this connection.  keepConnection
		 * set beforehand keeps FCGX_Accept_r's opening Finish from
		 * closing the fd. */
		req.ipcFd = fd;
		req.keepConnection = 1;
		if (FCGX_Accept_r(&req) < 0) {
			/* The peer closed it or sent garbage; libfcgi closed it. */
			req.ipcFd = -1;
			continue;
		}
		request_handle(app, &req, arena, db);
		__atomic_add_fetch(&srv->requests, 1, __ATOMIC_RELAXED);
		arena_reset(arena);
		FCGX_Finish_r(&req);           /* closes unless nginx keeps it */
		if (req.ipcFd >= 0) {
			fd = req.ipcFd;
			req.ipcFd = -1;
			if (app->stopping)
				close(fd);
			else
				conn_rearm(srv, fd);
		}
	}
	FCGX_Free(&req, 1);
	db_free(db);
	arena_free(arena);
	db_thread_end();
	return NULL;
}

/* The dispatcher: accept new connections, notice kept ones becoming
 * readable, queue both for the workers. */
static void *dispatcher_main(void *arg)
{
	struct server *srv = arg;
	struct epoll_event evs[64];

	for (;;) {
		int n = epoll_wait(srv->epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == srv->stop_fd)
				goto stop;
			if (fd == srv->listen_fd) {
				for (;;) {
					int c = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
					if (c < 0) {
						if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
						    errno != ECONNABORTED)
							log_warn("accept: %s", strerror(errno));
						break;
					}
					if (queue_push(&srv->q, c) < 0)
						close(c);
				}
				continue;
			}
			/* A kept connection is readable: the next request, or
			 * nginx closed it (the worker sees EOF and closes). */
			if (queue_push(&srv->q, fd) < 0)
				close(fd);
		}
	}
stop:
	queue_close(&srv->q);
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
	pthread_t dispatcher;
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
	    (srv.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
	    queue_init(&srv.q, 256) < 0) {
		log_error("server setup: %s", strerror(errno));
		return 1;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = srv.listen_fd };
	epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.listen_fd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = srv.stop_fd };
	epoll_ctl(srv.epfd, EPOLL_CTL_ADD, srv.stop_fd, &ev);

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
	if (status == 0 && pthread_create(&dispatcher, NULL, dispatcher_main, &srv) != 0) {
		log_error("pthread_create: cannot start the dispatcher");
		status = 1;
	}
	if (status != 0) {
		queue_close(&srv.q);
		for (int i = 0; i < started; i++)
			pthread_join(workers[i].thread, NULL);
		free(workers);
		return 1;
	}

	if (jobs_start(app) < 0)
		log_error("the job thread did not start; jobs wait for another labeld");

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

	unsigned long long lb, ln, sb, sn;
	struct rusage ru;

	/* Stop accepting at once; the dispatcher closes the queue, workers
	 * finish what is in flight and queued, then exit. */
	shutdown(srv.listen_fd, SHUT_RDWR);
	uint64_t one = 1;
	if (write(srv.stop_fd, &one, sizeof(one)) < 0)
		log_warn("stop: eventfd write: %s", strerror(errno));
	pthread_join(dispatcher, NULL);
	for (int i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	jobs_stop(app);
	free(workers);
	free(srv.q.fds);
	close(srv.epfd);
	close(srv.stop_fd);
	if (srv.listen_fd != 0) {
		close(srv.listen_fd);
		unlink(c->socket);
	}
	queue_batch_stats(&lb, &ln, &sb, &sn);
	if (ln + sn > 0)
		log_info("labeling: %llu leases in %llu transactions, %llu answers in %llu",
		    ln, lb, sn, sb);
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
