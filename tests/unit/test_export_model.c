/*
 * test_export_model.c: unit tests of the pure part of core/exports_model.c:
 * the Azure ML datastore URI prefix check of the Export form.
 */
#include <check.h>

#include <string.h>

#include "export.h"

static char err[512];

#define BASE "azureml://subscriptions/0f1e2d3c-aaaa-bbbb-cccc-123456789abc/resourcegroups/rg-vision/" \
	"workspaces/ws.1/datastores/images_store/paths/"

#define OK(s) ck_assert_msg(export_azureml_prefix_check((s), err, sizeof(err)) == 0, \
	"\"%s\" refused: %s", (s), err)
#define BAD(s) do { \
	err[0] = '\0'; \
	ck_assert_msg(export_azureml_prefix_check((s), err, sizeof(err)) == -1, "\"%s\" accepted", (s)); \
	ck_assert_msg(strstr(err, "azureml://subscriptions/") != NULL, "\"%s\": \"%s\" lacks the shape", \
	    (s), err); \
} while (0)

START_TEST(prefix_good)
{
	OK(BASE);
	OK(BASE "exports/");
	OK(BASE "a/b-c/d_e/2024.06/");
	/* the keywords in any case, as the Azure ML studio shows them */
	OK("AzureML://Subscriptions/x/ResourceGroups/My(Group)/Workspaces/w/Datastores/d/Paths/");
}
END_TEST

START_TEST(prefix_bad)
{
	BAD("");
	BAD("https://acct.blob.core.windows.net/container/");
	BAD("azureml:/subscriptions/x/resourcegroups/r/workspaces/w/datastores/d/paths/");
	BAD(BASE "exports");                         /* no trailing '/' */
	BAD("azureml://subscriptions/x/resourcegroups/r/workspaces/w/datastores/d/paths");
	BAD("azureml://subscriptions/x/resourcegroups/r/workspaces/w/paths/");
	BAD("azureml://subscriptions//resourcegroups/r/workspaces/w/datastores/d/paths/");
	BAD("azureml://subscriptions/x/resourcegroups/../workspaces/w/datastores/d/paths/");
	BAD("azureml://subscriptions/x/resourcegroups/r/workspaces/w/datastores/d d/paths/");
	BAD("azureml://subscriptions/x/resourcegroups/r/workspaces/w/datastores/d/paths/a b/");
	BAD(BASE "a//");
	BAD(BASE "../");
	BAD(BASE "./");
	BAD(BASE "a?b/");
	BAD(BASE "a#b/");
	BAD(BASE "a%2e/");
	BAD(BASE "a\\b/");
	BAD(BASE "a\tb/");
	BAD(BASE "caf\xc3\xa9\x7f/");
}
END_TEST

/* exports.azureml_prefix holds 1024 characters. */
START_TEST(prefix_long)
{
	char s[1100];
	size_t n = strlen(BASE);

	memcpy(s, BASE, n);
	while (n + 2 <= 1024) {
		s[n++] = 'a';
		s[n++] = '/';
	}
	s[n] = '\0';
	OK(s);
	s[n++] = 'b';
	s[n++] = '/';
	s[n] = '\0';
	err[0] = '\0';
	ck_assert_int_eq(export_azureml_prefix_check(s, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "1024") != NULL, "%s", err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("export_model");
	TCase *tc = tcase_create("prefix");

	tcase_add_test(tc, prefix_good);
	tcase_add_test(tc, prefix_bad);
	tcase_add_test(tc, prefix_long);
	suite_add_tcase(s, tc);
	return s;
}

#include "unit.h"
