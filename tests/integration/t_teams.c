/*
 * t_teams.c: teams (issue 13).  /admin/teams (add, unique names without
 * regard to case), a team's page (assign and remove people, rename,
 * delete, Email team with its mailto: encoding and the copyable list for
 * 200 members), a project's Team tab (assign, unassign, what labelers
 * see), each new project's default team, and access that follows the
 * tables on the next request, with the leases of whoever lost a project
 * returned to the queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")
#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")

/* ------------------------------------------------------------ helpers */

/* A stamp no earlier run or test used (letters, digits and '-'). */
static const char *stamp(void)
{
	static unsigned counter;

	return itest_fmt("%ld-%ld-%u", (long)time(NULL), (long)getpid(), ++counter);
}

static long num(const char *q)
{
	return strtol(SQL_QUERY("%s", q), NULL, 10);
}

/* A signed-in client of email with the test user's password (the admin's
 * when admin). */
static struct client *signed_in(const char *email, int admin)
{
	struct client *c = CLIENT(NULL);

	SIGN_IN_OK(c, email, admin ? ADMIN_PASSWORD : USER_PASSWORD);
	return c;
}

/* A new labeler (display name name, may be NULL) with the test user's
 * password; returns their id, the address in *email. */
static long person_new(const char *name, const char **email)
{
	*email = itest_fmt("team-%s@example.com", stamp());
	SQL("INSERT INTO users (email, display_name, password_hash, activated_at) "
	    "SELECT %s, %s, password_hash, NOW(6) FROM users WHERE email = %s", sql_str(*email), sql_str(name ? name : ""), sql_str(USER_EMAIL));
	return num(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(*email)));
}

/* The CSRF token of c's session. */
static char *csrf_of(struct client *c)
{
	struct resp *r = GET(c, "/projects");
	char *t = html_logout_csrf(r);

	CHECK(r->status == 200 && t != NULL, "no CSRF token on /projects (%ld)", r->status);
	return t;
}

/* A running project of task testtask with n items, made with SQL (no team
 * serves it); returns its id. */
static long project_new(long n)
{
	const char *name = itest_fmt("Teams %s", stamp());
	char *out = SQL_QUERY(
	    "INSERT INTO datasets (name, description, datastore_id, path, kind, source) "
	    "SELECT %s, '', id, 'teams-test', 'input', 'datastore' FROM datastores WHERE is_default = 1; "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, 'testtask', LAST_INSERT_ID(), '', 'running'); "
	    "SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1), (@p, 'dog', 2); "
	    "INSERT INTO items (project_id, path, width, height, format) "
	    "SELECT @p, CONCAT('teams-test/', @p, '/', seq, '.png'), 64, 48, 'png' FROM seq_1_to_%ld; "
	    "INSERT INTO project_counters (project_id, items_total) VALUES (@p, %ld); SELECT @p;",
	    sql_str(name), sql_str(name), n, n);
	long id = strtol(out, NULL, 10);

	CHECK(id > 0, "no project id (%s)", out);
	return id;
}

/* POST /admin/teams as admin a: a new team; returns its id. */
static long team_new(struct client *a, const char *name)
{
	struct resp *r = POST_FORM(a, "/admin/teams", "csrf", csrf_of(a), "name", name);
	const char *loc = resp_header(r, "Location");
	long id = 0;

	CHECK(r->status == 303 && loc != NULL && sscanf(loc, "/admin/teams/%ld?saved=created", &id) == 1,
	    "creating team %s: %ld %s: %s", name, r->status, loc ? loc : "", resp_snip(r));
	return id;
}

/* Assign (add) or remove one person on team tid; must answer 303. */
static void member(struct client *a, long tid, long uid, int add)
{
	struct resp *r = POST_FORM(a, itest_fmt("/admin/teams/%ld/members%s", tid, add ? "" : "/remove"),
	    "csrf", csrf_of(a), "user", itest_fmt("%ld", uid));

	CHECK(r->status == 303, "%s user %ld %s team %ld: %ld %s", add ? "adding" : "removing", uid,
	    add ? "to" : "from", tid, r->status, resp_snip(r));
}

/* Let team tid serve project pid (assign) or stop it (unassign) through
 * the Team tab; must answer 303 back to the tab. */
static void serve(struct client *a, long pid, long tid, int assign)
{
	struct resp *r = POST_FORM(a, itest_fmt("/projects/%ld/team%s", pid, assign ? "" : "/unassign"),
	    "csrf", csrf_of(a), "team", itest_fmt("%ld", tid));
	const char *loc = resp_header(r, "Location");

	CHECK(r->status == 303 && loc != NULL &&
	    strncmp(loc, itest_fmt("/projects/%ld/team?saved=", pid), strlen(itest_fmt("/projects/%ld/team?saved=", pid))) == 0,
	    "%s team %ld on project %ld: %ld %s", assign ? "assigning" : "unassigning", tid, pid,
	    r->status, resp_snip(r));
}

/* The leases uid holds in project pid now. */
static long leases(long pid, long uid)
{
	return num(itest_fmt("SELECT COUNT(*) FROM items WHERE project_id = %ld AND lease_user = %ld "
	    "AND lease_until > NOW(6)", pid, uid));
}

/* c (user uid) takes an item of project pid: the labeling page shows one
 * and the user holds one lease there. */
static void take_item(struct client *c, long pid, long uid)
{
	struct resp *r = GET(c, itest_fmt("/projects/%ld/label", pid));

	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@id='labelform']") == 1, "no labeling form: %s", resp_snip(r));
	CHECK(leases(pid, uid) == 1, "user %ld holds %ld leases in project %ld", uid, leases(pid, uid), pid);
}

/* c sees project pid (200) or not (404, like any project that does not
 * exist). */
static void sees(struct client *c, long pid, int yes)
{
	CHECK_STATUS(GET(c, itest_fmt("/projects/%ld", pid)), yes ? 200 : 404);
	CHECK_STATUS(GET(c, itest_fmt("/projects/%ld/team", pid)), yes ? 200 : 404);
}

/* ------------------------------------------------------------ the list */

/* Add team; a taken name, in any case, is refused with the name kept;
 * empty and too long names too. */
static void teams_add(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *name = itest_fmt("Crows %s", stamp());
	long tid = team_new(a, name), teams = num("SELECT COUNT(*) FROM teams");
	struct resp *r;

	r = GET(a, itest_fmt("/admin/teams/%ld?saved=created", tid));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//h1"), name);
	r = GET(a, "/admin/teams");
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//table[@id='teams']//tr[@data-team-id='%ld']/td[1]/a", tid), name);
	CHECK_STREQ(html_str(r, "//table[@id='teams']//tr[@data-team-id='%ld']/td[2]", tid), "0");
	CHECK(html_count(r, "//header//a[@href='/admin/teams']") == 1, "no Teams link for admins");

	/* The same name in other case, with spaces around it. */
	char *upper = itest_fmt("  %s ", name);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	r = POST_FORM(a, "/admin/teams", "csrf", csrf_of(a), "name", upper);
	CHECK_STATUS(r, 409);
	CHECK_BODY_HAS(r, "exists already");
	CHECK_STREQ(html_str(r, "//form[@id='teamform']//input[@name='name']/@value"),
	    itest_fmt("%.*s", (int)strlen(name), upper + 2));
	r = POST_FORM(a, "/admin/teams", "csrf", csrf_of(a), "name", "   ");
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "Enter a team name");
	char *longname = itest_keep(calloc(1, 142));
	memset(longname, 'x', 141);
	r = POST_FORM(a, "/admin/teams", "csrf", csrf_of(a), "name", longname);
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "at most 140");
	CHECK_STREQ(html_str(r, "//form[@id='teamform']//input[@name='name']/@value"), longname);
	CHECK(num("SELECT COUNT(*) FROM teams") == teams, "a refused team was stored");

	/* Rename: to a taken name (other case) refused, to a new one done. */
	const char *other = itest_fmt("Rooks %s", stamp());
	team_new(a, other);
	r = POST_FORM(a, itest_fmt("/admin/teams/%ld/name", tid), "csrf", csrf_of(a), "name", itest_fmt("rOOKS%s", other + 5));
	CHECK_STATUS(r, 409);
	CHECK_STREQ(html_str(r, "//form[@id='renameform']//input[@name='name']/@value"), itest_fmt("rOOKS%s", other + 5));
	const char *renamed = itest_fmt("Ravens %s", stamp());
	CHECK_REDIRECT(POST_FORM(a, itest_fmt("/admin/teams/%ld/name", tid), "csrf", csrf_of(a), "name", renamed),
	    303, itest_fmt("/admin/teams/%ld?saved=renamed", tid));
	CHECK_STREQ(SQL_QUERY("SELECT name FROM teams WHERE id = %ld", tid), renamed);

	/* Forged ids and a missing token. */
	CHECK_STATUS(GET(a, "/admin/teams/999999999"), 404);
	CHECK_STATUS(GET(a, "/admin/teams/x1"), 404);
	CHECK_STATUS(POST_FORM(a, "/admin/teams/999999999/name", "csrf", csrf_of(a), "name", "x"), 404);
	CHECK_STATUS(POST_FORM(a, "/admin/teams", "name", itest_fmt("No token %s", stamp())), 403);
	CHECK_STATUS(POST_FORM(a, itest_fmt("/admin/teams/%ld/delete", tid), "confirm", "yes"), 403);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM teams WHERE id = %ld", tid)) == 1, "deleted without CSRF");
}

/* A labeler gets 403 on every team page and POST, and changes nothing. */
static void teams_labeler_refused(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *email;
	long uid = person_new("Lab", &email), tid = team_new(a, itest_fmt("Guarded %s", stamp()));
	long pid = project_new(1);
	struct client *u = signed_in(email, 0);
	char *csrf = csrf_of(u);
	const char *id = itest_fmt("%ld", uid), *t = itest_fmt("%ld", tid);

	CHECK(html_count(GET(u, "/projects"), "//header//a[@href='/admin/teams']") == 0,
	    "a labeler sees the Teams link");
	CHECK_STATUS(GET(u, "/admin/teams"), 403);
	CHECK_STATUS(GET(u, itest_fmt("/admin/teams/%ld", tid)), 403);
	CHECK_STATUS(POST_FORM(u, "/admin/teams", "csrf", csrf, "name", itest_fmt("Mine %s", stamp())), 403);
	CHECK_STATUS(POST_FORM(u, itest_fmt("/admin/teams/%ld/members", tid), "csrf", csrf, "user", id), 403);
	CHECK_STATUS(POST_FORM(u, itest_fmt("/admin/teams/%ld/members/remove", tid), "csrf", csrf, "user", id), 403);
	CHECK_STATUS(POST_FORM(u, itest_fmt("/admin/teams/%ld/name", tid), "csrf", csrf, "name", "x"), 403);
	CHECK_STATUS(POST_FORM(u, itest_fmt("/admin/teams/%ld/delete", tid), "csrf", csrf, "confirm", "yes"), 403);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM team_members WHERE user_id = %ld", uid)) == 0,
	    "the labeler joined a team");
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM teams WHERE id = %ld", tid)) == 1, "the team is gone");

	/* In a team serving the project, still no assigning. */
	member(a, tid, uid, 1);
	serve(a, pid, tid, 1);
	CHECK_STATUS(POST_FORM(u, itest_fmt("/projects/%ld/team", pid), "csrf", csrf, "team", t), 403);
	CHECK_STATUS(POST_FORM(u, itest_fmt("/projects/%ld/team/unassign", pid), "csrf", csrf, "team", t), 403);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM project_teams WHERE project_id = %ld", pid)) == 1,
	    "the labeler changed the project's teams");
}

/* ------------------------------------------------------------ members */

/* Assign several people at once (found by a search), remove some. */
static void teams_assign_remove(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *e1, *e2, *e3;
	long u1 = person_new("Ann", &e1), u2 = person_new("", &e2), u3 = person_new("Cy", &e3);
	long tid = team_new(a, itest_fmt("Finches %s", stamp()));
	struct resp *r;

	/* The search finds people by email (and LIKE's % matches itself). */
	r = GET(a, itest_fmt("/admin/teams/%ld?q=%s", tid, url_enc(e2)));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table[@id='candidate-list']//input[@name='user']") == 1 &&
	    html_count(r, "//table[@id='candidate-list']//input[@value='%ld']", u2) == 1,
	    "searching %s does not find exactly that person", e2);
	r = GET(a, itest_fmt("/admin/teams/%ld?q=%s", tid, url_enc("%nobody-at-all%")));
	CHECK(html_count(r, "//table[@id='candidate-list']") == 0, "a search for nobody lists people");
	CHECK_BODY_HAS(r, "Nobody outside the team matches");
	CHECK_STATUS(GET(a, itest_fmt("/admin/teams/%ld?q=%%FF%%FE", tid)), 400);

	r = POST_FORM(a, itest_fmt("/admin/teams/%ld/members", tid), "csrf", csrf_of(a),
	    "user", itest_fmt("%ld", u1), "user", itest_fmt("%ld", u2), "user", itest_fmt("%ld", u3));
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/teams/%ld?saved=added&n=3&l=0", tid));
	r = GET(a, itest_fmt("/admin/teams/%ld?saved=added&n=3&l=0", tid));
	CHECK_BODY_HAS(r, "3 people added");
	CHECK(html_count(r, "//table[@id='member-list']/tbody/tr") == 3, "not three members");
	CHECK_STREQ(html_str(r, "//table[@id='member-list']//tr[@data-user-id='%ld']/td[@class='email']", u3), e3);
	CHECK_STREQ(html_str(r, "//table[@id='member-list']//tr[@data-user-id='%ld']/td[4]", u1), "labeler");
	CHECK(html_count(r, "//table[@id='candidate-list']//input[@value='%ld']", u1) == 0,
	    "a member is still offered to assign");
	/* Assigning again adds nobody twice. */
	member(a, tid, u1, 1);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM team_members WHERE team_id = %ld", tid)) == 3, "a member twice");
	r = GET(a, "/admin/teams");
	CHECK_STREQ(html_str(r, "//table[@id='teams']//tr[@data-team-id='%ld']/td[2]", tid), "3");

	r = POST_FORM(a, itest_fmt("/admin/teams/%ld/members/remove", tid), "csrf", csrf_of(a),
	    "user", itest_fmt("%ld", u1), "user", itest_fmt("%ld", u3));
	CHECK_REDIRECT(r, 303, itest_fmt("/admin/teams/%ld?saved=removed&n=2&l=0", tid));
	r = GET(a, itest_fmt("/admin/teams/%ld", tid));
	CHECK(html_count(r, "//table[@id='member-list']/tbody/tr") == 1 &&
	    html_count(r, "//table[@id='member-list']//tr[@data-user-id='%ld']", u2) == 1, "u2 is not the one member left");

	/* Nothing chosen, a forged id, a forged team. */
	r = POST_FORM(a, itest_fmt("/admin/teams/%ld/members", tid), "csrf", csrf_of(a));
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "Choose at least one person");
	CHECK_STATUS(POST_FORM(a, itest_fmt("/admin/teams/%ld/members/remove", tid), "csrf", csrf_of(a)), 422);
	CHECK_STATUS(POST_FORM(a, itest_fmt("/admin/teams/%ld/members", tid), "csrf", csrf_of(a), "user", "1x"), 422);
	CHECK_STATUS(POST_FORM(a, "/admin/teams/999999999/members", "csrf", csrf_of(a),
	    "user", itest_fmt("%ld", u1)), 404);
	CHECK_STATUS(POST_FORM(a, itest_fmt("/admin/teams/%ld/members", tid), "csrf", csrf_of(a),
	    "user", "999999999"), 303);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM team_members WHERE team_id = %ld", tid)) == 1,
	    "an unknown person was added");
}

/* ------------------------------------------------------------ access */

/* A labeler in a team serving P sees P and takes an item; removed from the
 * team, the next request answers 404 and the lease is back in the queue. */
static void teams_removal_revokes(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *email;
	long uid = person_new("Remy", &email), pid = project_new(3);
	long tid = team_new(a, itest_fmt("Herons %s", stamp()));
	struct client *u = signed_in(email, 0);

	sees(u, pid, 0);
	member(a, tid, uid, 1);
	sees(u, pid, 0);            /* in a team, but it serves nothing yet */
	serve(a, pid, tid, 1);
	sees(u, pid, 1);
	take_item(u, pid, uid);
	long item = num(itest_fmt("SELECT id FROM items WHERE project_id = %ld AND lease_user = %ld", pid, uid));

	CHECK_REDIRECT(POST_FORM(a, itest_fmt("/admin/teams/%ld/members/remove", tid), "csrf", csrf_of(a),
	    "user", itest_fmt("%ld", uid)), 303, itest_fmt("/admin/teams/%ld?saved=removed&n=1&l=1", tid));
	sees(u, pid, 0);
	CHECK_STATUS(GET(u, itest_fmt("/projects/%ld/label", pid)), 404);
	CHECK(leases(pid, uid) == 0, "the removed labeler still holds a lease");
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM item_events WHERE item_id = %ld AND kind = 'released' "
	    "AND user_id = %ld", item, uid)) == 1, "no 'released' event for item %ld", item);
	/* The item is free: another member gets it. */
	const char *e2;
	long u2 = person_new("Other", &e2);
	member(a, tid, u2, 1);
	struct client *c2 = signed_in(e2, 0);
	take_item(c2, pid, u2);
	CHECK(num(itest_fmt("SELECT lease_user FROM items WHERE id = %ld", item)) == u2,
	    "the returned item did not go to the next labeler");
}

/* Unassigning the team from the project, or deleting the team, does the
 * same. */
static void teams_unassign_and_delete_revoke(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *email;
	long uid = person_new("Una", &email), pid = project_new(3);
	long tid = team_new(a, itest_fmt("Egrets %s", stamp()));
	struct client *u = signed_in(email, 0);
	struct resp *r;

	member(a, tid, uid, 1);
	serve(a, pid, tid, 1);
	take_item(u, pid, uid);
	r = GET(a, itest_fmt("/projects/%ld/team", pid));
	CHECK(html_count(r, "//div[@data-team-id='%ld']", tid) == 1, "the Team tab lacks the team");
	serve(a, pid, tid, 0);
	sees(u, pid, 0);
	CHECK(leases(pid, uid) == 0, "the lease survived the unassign");
	r = GET(a, itest_fmt("/projects/%ld/team", pid));
	CHECK(html_count(r, "//div[@data-team-id='%ld']", tid) == 0, "the Team tab still lists the team");
	CHECK(html_count(r, "//select[@name='team']/option[@value='%ld']", tid) == 1, "the team is not offered again");

	/* Deleting: a confirm page first, then the team and its access go. */
	serve(a, pid, tid, 1);
	sees(u, pid, 1);
	take_item(u, pid, uid);
	r = POST_FORM(a, itest_fmt("/admin/teams/%ld/delete", tid), "csrf", csrf_of(a));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//form[@id='confirmform']//input[@name='confirm' and @value='yes']") == 1,
	    "no confirm form");
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM teams WHERE id = %ld", tid)) == 1, "deleted before confirming");
	sees(u, pid, 1);
	r = POST_FORM(a, itest_fmt("/admin/teams/%ld/delete", tid), "csrf", csrf_of(a), "confirm", "yes");
	CHECK_REDIRECT(r, 303, "/admin/teams?saved=deleted&l=1");
	sees(u, pid, 0);
	CHECK(leases(pid, uid) == 0, "the lease survived the team's deletion");
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM team_members WHERE team_id = %ld", tid)) == 0, "members left behind");
	CHECK_STATUS(GET(a, itest_fmt("/admin/teams/%ld", tid)), 404);
	CHECK_STATUS(POST_FORM(a, itest_fmt("/admin/teams/%ld/delete", tid), "csrf", csrf_of(a), "confirm", "yes"), 404);
}

/* Two teams serving one project; one team serving two projects; a person
 * in two teams keeps the project while one of them still serves it. */
static void teams_many_to_many(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *e1, *e2, *e3;
	long u1 = person_new("One", &e1), u2 = person_new("Two", &e2), u3 = person_new("Three", &e3);
	long p = project_new(4), q = project_new(2);
	long t1 = team_new(a, itest_fmt("Terns %s", stamp())), t2 = team_new(a, itest_fmt("Gulls %s", stamp()));
	struct client *c1 = signed_in(e1, 0), *c2 = signed_in(e2, 0), *c3 = signed_in(e3, 0);

	member(a, t1, u1, 1);
	member(a, t2, u2, 1);
	member(a, t1, u3, 1);
	member(a, t2, u3, 1);
	serve(a, p, t1, 1);
	serve(a, p, t2, 1);
	serve(a, q, t2, 1);
	sees(c1, p, 1);
	sees(c1, q, 0);
	sees(c2, p, 1);
	sees(c2, q, 1);
	sees(c3, p, 1);
	struct resp *r = GET(a, "/admin/teams");
	CHECK(html_count(r, "//table[@id='teams']//tr[@data-team-id='%ld']//a[@class='project']", t2) == 2,
	    "team %ld does not list two projects", t2);

	/* u3 leaves t1 but t2 still serves p: p stays, and so does the lease. */
	take_item(c3, p, u3);
	member(a, t1, u3, 0);
	sees(c3, p, 1);
	CHECK(leases(p, u3) == 1, "a lease of a project still served was returned");
	/* t2 stops serving q: u2 loses q, keeps p. */
	serve(a, q, t2, 0);
	sees(c2, q, 0);
	sees(c2, p, 1);
	/* The admin sees every project, in a team or not. */
	sees(a, q, 1);
}

/* ------------------------------------------------------------ the Team tab */

/* Admins see teams with emails and the forms; a labeler of the project
 * sees names only and no forms; bad assigns are refused. */
static void teams_project_tab(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *e1, *e2;
	long u1 = person_new("Tab Reader", &e1);
	long u2 = person_new("", &e2), pid = project_new(1);
	const char *tname = itest_fmt("Owls %s", stamp());
	long tid = team_new(a, tname);
	struct resp *r;

	r = GET(a, itest_fmt("/projects/%ld/team", pid));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//nav[contains(@class,'tabs')]/a[@aria-current='page']"), "Team");
	CHECK_BODY_HAS(r, "No team serves this project");
	CHECK(html_count(r, "//form[@id='assignteamform']//option[@value='%ld']", tid) == 1, "the team is not offered");
	member(a, tid, u1, 1);
	member(a, tid, u2, 1);
	serve(a, pid, tid, 1);
	serve(a, pid, tid, 1);      /* again: nothing changes */
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM project_teams WHERE project_id = %ld", pid)) == 1, "assigned twice");
	r = GET(a, itest_fmt("/projects/%ld/team?saved=assigned", pid));
	CHECK_BODY_HAS(r, "now serves this project");
	CHECK_STREQ(html_str(r, "//div[@data-team-id='%ld']/h3/a[@href='/admin/teams/%ld']", tid, tid), tname);
	CHECK(html_count(r, "//div[@data-team-id='%ld']//td[@class='email' and .='%s']", tid, e1) == 1,
	    "the admin does not see the member's email");
	CHECK(html_count(r, "//div[@data-team-id='%ld']//form[contains(@class,'unassign')]", tid) == 1, "no Unassign");

	struct client *u = signed_in(e1, 0);
	r = GET(u, itest_fmt("/projects/%ld/team", pid));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//div[@data-team-id='%ld']//td[@class='name' and .='Tab Reader']", tid) == 1,
	    "the labeler does not see the member's name");
	CHECK(html_count(r, "//div[@data-team-id='%ld']//td[@class='name' and .='(no display name)']", tid) == 1,
	    "a member without a name is not shown as such");
	CHECK_BODY_LACKS(r, e2);     /* (the labeler's own address is in the header) */
	CHECK(html_count(r, "//form[@id='assignteamform']") == 0 && html_count(r, "//form[contains(@class,'unassign')]") == 0,
	    "a labeler sees the assign forms");
	CHECK(html_count(r, "//a[@href='/admin/teams/%ld']", tid) == 0, "a labeler gets the admin's team link");

	/* Bad input. */
	r = POST_FORM(a, itest_fmt("/projects/%ld/team", pid), "csrf", csrf_of(a), "team", "");
	CHECK_STATUS(r, 422);
	CHECK_BODY_HAS(r, "Choose a team");
	CHECK_STATUS(POST_FORM(a, itest_fmt("/projects/%ld/team", pid), "csrf", csrf_of(a), "team", "999999999"), 404);
	CHECK_STATUS(POST_FORM(a, itest_fmt("/projects/%ld/team/unassign", pid), "csrf", csrf_of(a), "team", "999999999"), 404);
	CHECK_STATUS(POST_FORM(a, "/projects/999999999/team", "csrf", csrf_of(a), "team", itest_fmt("%ld", tid)), 404);
	CHECK_STATUS(POST_FORM(a, itest_fmt("/projects/%ld/team", pid), "team", itest_fmt("%ld", tid)), 403);
	CHECK_STATUS(POST_FORM(a, itest_fmt("/projects/%ld/team/unassign", pid), "team", itest_fmt("%ld", tid)), 403);
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM project_teams WHERE project_id = %ld", pid)) == 1,
	    "unassigned without CSRF");
	CHECK_STATUS(GET(a, "/projects/999999999/team"), 404);
}

/* ------------------------------------------------------------ default teams */

/* A project made with the wizard has its default team holding its creator;
 * a taken "<name> team" gets a number. */
static void teams_default_team(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *name = itest_fmt("Birds %s", stamp());
	long taken = team_new(a, itest_fmt("%s team", name)), dataset = num(itest_fmt(
	    "SELECT dataset_id FROM projects WHERE id = %ld", project_new(1)));
	struct resp *r = POST_FORM(a, "/projects/drafts", "csrf", csrf_of(a));
	const char *loc = resp_header(r, "Location");
	long draft = 0, pid = 0;

	CHECK(r->status == 303 && loc != NULL && sscanf(loc, "/projects/drafts/%ld/name", &draft) == 1,
	    "no draft: %ld %s", r->status, resp_snip(r));
	const char *d = itest_fmt("/projects/drafts/%ld", draft);
	CHECK_STATUS(POST_FORM(a, itest_fmt("%s/name", d), "csrf", csrf_of(a), "name", name, "task", "testtask",
	    "go", "next"), 303);
	CHECK_STATUS(POST_FORM(a, itest_fmt("%s/data", d), "csrf", csrf_of(a), "source", "existing",
	    "dataset", itest_fmt("%ld", dataset), "go", "next"), 303);
	CHECK_STATUS(POST_FORM(a, itest_fmt("%s/labels", d), "csrf", csrf_of(a), "label", "crow", "go", "next"), 303);
	CHECK_STATUS(POST_FORM(a, itest_fmt("%s/instructions", d), "csrf", csrf_of(a), "instructions_url", "",
	    "description", "", "go", "next"), 303);
	r = POST_FORM(a, itest_fmt("%s/review", d), "csrf", csrf_of(a), "go", "create");
	loc = resp_header(r, "Location");
	CHECK(r->status == 303 && loc != NULL && sscanf(loc, "/projects/%ld", &pid) == 1,
	    "no project: %ld %s", r->status, resp_snip(r));

	long admin_id = num(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(ADMIN_EMAIL)));
	char *row = SQL_QUERY("SELECT CONCAT(t.id, ' ', t.name) FROM teams t JOIN project_teams pt "
	    "ON pt.team_id = t.id WHERE pt.project_id = %ld AND t.project_id = %ld", pid, pid);
	long tid = strtol(row, NULL, 10);
	CHECK(tid > 0 && tid != taken, "no default team for project %ld (%s)", pid, row);
	CHECK_STREQ(strchr(row, ' ') + 1, itest_fmt("%s team 2", name));
	CHECK(num(itest_fmt("SELECT COUNT(*) FROM team_members WHERE team_id = %ld AND user_id = %ld", tid, admin_id)) == 1
	    && num(itest_fmt("SELECT COUNT(*) FROM team_members WHERE team_id = %ld", tid)) == 1,
	    "the default team does not hold exactly its creator");
	r = GET(a, itest_fmt("/projects/%ld/team", pid));
	CHECK_STREQ(html_str(r, "//div[@data-team-id='%ld']/h3/a", tid), itest_fmt("%s team 2", name));
	r = GET(a, itest_fmt("/admin/teams/%ld", tid));
	CHECK(html_count(r, "//p/a[@href='/projects/%ld']", pid) == 1, "the team page does not name its project");
}

/* The demo project (labeld --create-demo, as ./stack up seeds it) has its
 * default team too, with the first admin in it. */
static void teams_demo_team(void)
{
	const char *run = ENV("LABELD_TEST_RUN_DIR"), *svc = ENV("LABELD_TEST_SVC_USER"), *as = "";
	char *root = itest_keep(strdup(run));
	int rc;

	CHECK(root != NULL && strrchr(root, '/') != NULL, "LABELD_TEST_RUN_DIR %s", run);
	*strrchr(root, '/') = '\0';
	if (geteuid() == 0 && strcmp(svc, "root") != 0)
		as = itest_fmt("setpriv --reuid=%s --regid=%s --init-groups -- ", svc, svc);
	rc = itest_shell(itest_fmt("env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin %s'%s/sbin/labeld' -c "
	    "'%s/labeld/labeld-a.conf' --create-demo '%s/tests/fixtures/images' >>'%s/teams-demo.log' 2>&1",
	    as, ENV("LABELD_TEST_PREFIX"), root, ENV("LABELD_TEST_SRCDIR"), ENV("LABELD_TEST_OUT")));
	CHECK(rc == 0 || rc == 3, "labeld --create-demo failed (exit %d; %s/teams-demo.log)", rc,
	    ENV("LABELD_TEST_OUT"));
	CHECK_STREQ(SQL_QUERY("SELECT CONCAT(t.name, ' ', COUNT(DISTINCT pt.project_id), ' ', "
	    "GROUP_CONCAT(DISTINCT m.user_id)) FROM projects p JOIN teams t ON t.project_id = p.id "
	    "JOIN project_teams pt ON pt.team_id = t.id AND pt.project_id = p.id "
	    "JOIN team_members m ON m.team_id = t.id WHERE p.name = 'Demo: objects in photos' GROUP BY t.id"),
	    itest_fmt("Demo: objects in photos team 1 %s",
	    SQL_QUERY("SELECT MIN(id) FROM users WHERE is_admin = 1")));
}

/* ------------------------------------------------------------ Email team */

/* The mailto: link holds every address, percent-encoded, and nothing else. */
static void teams_email_encoding(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *s = stamp();
	long tid = team_new(a, itest_fmt("Mail %s", s));
	const char *addr[] = {
		itest_fmt("a+tag-%s@example.com", s),
		itest_fmt("b&c?d%%e-%s@example.com", s),
		itest_fmt("f,g'h=i-%s@example.com", s),
	};
	const char *want[] = {
		itest_fmt("a%%2Btag-%s@example.com", s),
		itest_fmt("b%%26c%%3Fd%%25e-%s@example.com", s),
		itest_fmt("f%%2Cg%%27h%%3Di-%s@example.com", s),
	};
	const char *names[] = { "Mail A", "Mail B Zo\xc3\xab \xc3\x9cnicode", "Mail C \"quoted\" <x>" };

	for (int i = 0; i < 3; i++) {
		SQL("INSERT INTO users (email, display_name, password_hash) VALUES (%s, %s, 'x')",
		    sql_str(addr[i]), sql_str(names[i]));
		member(a, tid, num(itest_fmt("SELECT id FROM users WHERE email = %s", sql_str(addr[i]))), 1);
	}
	struct resp *r = GET(a, itest_fmt("/admin/teams/%ld", tid));
	CHECK_STATUS(r, 200);
	CHECK_STREQ(html_str(r, "//a[@id='mailto']/@href"),
	    itest_fmt("mailto:%s,%s,%s", want[0], want[1], want[2]));
	CHECK(html_count(r, "//textarea[@id='email-list']") == 0, "a short list is offered as a textarea");
	/* A team without members has no link. */
	long empty = team_new(a, itest_fmt("Quiet %s", s));
	r = GET(a, itest_fmt("/admin/teams/%ld", empty));
	CHECK(html_count(r, "//a[@id='mailto']") == 0, "an empty team has a mail link");
}

/* Clean-up: the bulk people of a test (arg: their address prefix). */
static void bulk_delete(void *arg)
{
	if (itest_sql_try("DELETE FROM users WHERE email LIKE %s", sql_str(itest_fmt("%s%%", (const char *)arg))) != 0)
		itest_cleanup_error("could not delete the people %s*", (const char *)arg);
}

/* 200 members: no mailto (it would be cut), the addresses to copy instead. */
static void teams_email_200(void)
{
	struct client *a = signed_in(ADMIN_EMAIL, 1);
	const char *s = stamp();
	const char *prefix = itest_fmt("bulk-%s-", s);
	long tid = team_new(a, itest_fmt("Crowd %s", s));

	SQL("INSERT INTO users (email, display_name, password_hash) "
	    "SELECT CONCAT(%s, LPAD(seq, 3, '0'), '@example.com'), CONCAT('Bulk ', LPAD(seq, 3, '0')), 'x' "
	    "FROM seq_1_to_200", sql_str(prefix));
	itest_defer(bulk_delete, (void *)prefix);
	SQL("INSERT INTO team_members (team_id, user_id) SELECT %ld, id FROM users WHERE email LIKE %s",
	    tid, sql_str(itest_fmt("%s%%", prefix)));
	struct resp *r = GET(a, itest_fmt("/admin/teams/%ld", tid));
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//a[starts-with(@href,'mailto:')]") == 0, "a mailto link for 200 members");
	CHECK(html_count(r, "//textarea[@id='email-list' and @readonly]") == 1, "no readonly list of addresses");
	CHECK_BODY_HAS(r, "2000 characters");
	char *list = html_str(r, "//textarea[@id='email-list']");
	CHECK(list != NULL, "empty address list");
	size_t n = 1;
	for (const char *p = list; (p = strstr(p, ", ")) != NULL; p += 2)
		n++;
	CHECK(n == 200, "the list holds %zu addresses, want 200", n);
	CHECK(strncmp(list, itest_fmt("%s001@example.com, %s002@example.com", prefix, prefix),
	    strlen(itest_fmt("%s001@example.com, %s002@example.com", prefix, prefix))) == 0,
	    "the list starts %.80s", list);
	CHECK(strstr(list, itest_fmt("%s200@example.com", prefix)) != NULL, "the last address is missing");
	CHECK(strstr(list, "Bulk") == NULL, "display names in the list");
	/* The long people list is cut, and a search narrows it. */
	long other = team_new(a, itest_fmt("Crowd two %s", s));
	r = GET(a, itest_fmt("/admin/teams/%ld", other));
	CHECK(html_count(r, "//table[@id='candidate-list']/tbody/tr") == 100, "the people list is not cut at 100");
	CHECK_BODY_HAS(r, "search to find others");
	r = GET(a, itest_fmt("/admin/teams/%ld?q=%s", other, url_enc(itest_fmt("%s15", prefix))));
	CHECK(html_count(r, "//table[@id='candidate-list']/tbody/tr") == 10, "searching %s15 finds %d", prefix,
	    html_count(r, "//table[@id='candidate-list']/tbody/tr"));
}

const struct itest_case itest_teams_cases[] = {
	ITEST(teams_add),
	ITEST(teams_labeler_refused),
	ITEST(teams_assign_remove),
	ITEST(teams_removal_revokes),
	ITEST(teams_unassign_and_delete_revoke),
	ITEST(teams_many_to_many),
	ITEST(teams_project_tab),
	ITEST(teams_default_team),
	ITEST(teams_demo_team),
	ITEST(teams_email_encoding),
	ITEST(teams_email_200),
};

const size_t itest_teams_ncases = sizeof(itest_teams_cases) / sizeof(itest_teams_cases[0]);
