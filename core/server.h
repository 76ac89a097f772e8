/*
 * server.h: the FastCGI listener, the worker threads and the signals.
 */
#ifndef LABELD_SERVER_H
#define LABELD_SERVER_H

struct app;

/* Serve until SIGTERM or SIGINT: open the socket (or take fd 0), start
 * cfg.workers threads, handle SIGHUP reloads.  Returns the process exit
 * status: 0 after a clean stop, 1 when the socket or the threads could not
 * be set up. */
int server_run(struct app *app);

#endif
