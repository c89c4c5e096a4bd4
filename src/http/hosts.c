/*
 * hosts.c - ALLOWED_HOSTS (see hosts.h), after Django's split_domain_port()
 * and validate_host().
 */
#include "http/hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/text.h"

static char **patterns;
static size_t npatterns;

void
http_hosts_free(void)
{
  for (size_t i = 0; i < npatterns; i++)
    free(patterns[i]);
  free(patterns);
  patterns = NULL;
  npatterns = 0;
}

int
http_hosts_configure(const char *list)
{
  http_hosts_free();
  if (list == NULL)
    return 0;
  patterns = calloc(text_list_capacity(list), sizeof *patterns);
  if (patterns == NULL)
    return EVENTAPI_ENOMEM;
  const char *item;
  size_t item_len;
  for (const char *p = list; text_list_next(&p, &item, &item_len);) {
    if (item_len > 0) {
      char *copy = strndup(item, item_len);
      if (copy == NULL) {
        http_hosts_free();
        return EVENTAPI_ENOMEM;
      }
      for (char *c = copy; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
          *c = (char)(*c - 'A' + 'a');
      patterns[npatterns++] = copy;
    }
  }
  return 0;
}

/*
 * Django's host_validation_re: ^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9\.:]+\])(:[0-9]+)?$
 * on the lower-cased host. On a match, the domain (without a final dot) is
 * copied into domain[size].
 */
static bool
split_domain(const char *host, char *domain, size_t size)
{
  size_t len = strlen(host), at = 0;
  if (len == 0 || len >= size)
    return false;
  char lower[256];
  if (len >= sizeof lower)
    return false;
  for (size_t i = 0; i <= len; i++)
    lower[i] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] - 'A' + 'a' : host[i]);
  if (lower[0] == '[') {
    const char *close = strchr(lower, ']');
    if (close == NULL)
      return false;
    size_t inner = (size_t)(close - lower - 1);
    bool colon = false;
    for (size_t i = 1; i <= inner; i++) {
      char c = lower[i];
      if (c == ':')
        colon = true;
      else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c == '.' && colon)))
        return false;
    }
    if (!colon)
      return false;
    at = (size_t)(close - lower + 1);
  } else {
    while ((lower[at] >= 'a' && lower[at] <= 'z') || (lower[at] >= '0' && lower[at] <= '9') ||
           lower[at] == '.' || lower[at] == '-')
      at++;
    if (at == 0)
      return false;
  }
  size_t domain_len = at;
  if (lower[at] == ':') {
    if (lower[at + 1] == '\0')
      return false;
    for (size_t i = at + 1; lower[i]; i++)
      if (lower[i] < '0' || lower[i] > '9')
        return false;
  } else if (lower[at] != '\0') {
    return false;
  }
  if (domain_len > 0 && lower[domain_len - 1] == '.')
    domain_len--;
  memcpy(domain, lower, domain_len);
  domain[domain_len] = '\0';
  return true;
}

static bool
pattern_matches(const char *pattern, const char *domain)
{
  if (strcmp(pattern, "*") == 0)
    return true;
  if (pattern[0] == '.') {
    size_t plen = strlen(pattern), dlen = strlen(domain);
    if (strcmp(domain, pattern + 1) == 0)
      return true;
    return dlen > plen && strcmp(domain + dlen - plen, pattern) == 0;
  }
  return strcmp(domain, pattern) == 0;
}

/*
 * Python's repr() of a short str, as Django's message shows it. A header's
 * bytes are read as ISO-8859-1, as Django reads them: what Python does not
 * print (controls, U+0080 to U+00A0, the soft hyphen) is escaped, the rest
 * of U+00A1 to U+00FF written as UTF-8.
 */
static void
repr(const char *s, char *out, size_t size)
{
  size_t used = 0;
  if (size < 8)
    return;
  bool has_single = strchr(s, '\'') != NULL, has_double = strchr(s, '"') != NULL;
  char quote = has_single && !has_double ? '"' : '\'';
  out[used++] = quote;
  for (const unsigned char *c = (const unsigned char *)s; *c && used + 6 < size; c++) {
    if (*c == (unsigned char)quote || *c == '\\') {
      out[used++] = '\\';
      out[used++] = (char)*c;
    } else if (*c == '\t' || *c == '\n' || *c == '\r') {
      out[used++] = '\\';
      out[used++] = *c == '\t' ? 't' : *c == '\n' ? 'n' : 'r';
    } else if (*c < 0x20 || (*c >= 0x7f && *c <= 0xa0) || *c == 0xad) {
      used += (size_t)snprintf(out + used, size - used, "\\x%02x", *c);
    } else {
      used += text_latin1_to_utf8((const char *)c, 1, out + used, size - used);
    }
  }
  out[used++] = quote;
  out[used] = '\0';
}

bool
http_hosts_allow(const char *host, char *why, size_t whylen)
{
  char domain[256];
  if (split_domain(host, domain, sizeof domain)) {
    for (size_t i = 0; i < npatterns; i++)
      if (pattern_matches(patterns[i], domain))
        return true;
  } else {
    domain[0] = '\0';
  }
  char shown_host[300], shown_domain[300];
  char clipped[201];
  size_t clip = strnlen(host, sizeof clipped - 1);
  memcpy(clipped, host, clip);
  clipped[clip] = '\0';
  repr(clipped, shown_host, sizeof shown_host);
  if (domain[0]) {
    repr(domain, shown_domain, sizeof shown_domain);
    snprintf(why, whylen, "Invalid HTTP_HOST header: %s. You may need to add %s to ALLOWED_HOSTS.",
             shown_host, shown_domain);
  } else {
    snprintf(why, whylen, "Invalid HTTP_HOST header: %s. The domain name provided is not "
             "valid according to RFC 1034/1035.", shown_host);
  }
  return false;
}
