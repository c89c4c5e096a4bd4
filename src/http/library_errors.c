/*
 * library_errors.c - libmicrohttpd's own error answers, in JSON.
 *
 * libmicrohttpd answers some malformed requests itself, before any callback
 * of eventapi runs: an unsupported HTTP version, a request line or headers
 * too large for its memory pool, a malformed chunk or Content-Length. Its
 * bodies are fixed HTML pages, and 0.9.75 offers no way to change them,
 * while every other answer of the API is JSON in DRF's shape and clients
 * read error bodies as JSON.
 *
 * The library builds those answers with its own exported function
 * MHD_create_response_from_buffer(), which it calls through its procedure
 * linkage table; a definition in this program therefore takes those calls,
 * as a malloc() defined in a program takes the C library's (ELF symbol
 * interposition). The definition below does what the library's does for
 * every call, except for a persistent buffer that opens with the library's
 * "<html><head><title>": for those it answers {"detail": "..."} with
 * Content-Type application/json instead. Nothing else of eventapi calls the
 * function (server.c uses MHD_create_response_from_buffer_with_free_callback).
 *
 * tests/api/http.c sends each kind of request the library refuses and
 * checks the JSON: should a later libmicrohttpd bind the call internally,
 * those tests fail, rather than the answers silently turning into HTML.
 *
 * One malformed request the library does not answer at all: a first line
 * it cannot split into method, target and version ("GARBAGE", "GET", bytes
 * that are not text). It shuts the socket down and closes it, where API.md
 * promises an answer to every request. Its shutdown() is interposed the
 * same way: http_server_before_shutdown() answers such a connection 400
 * before the socket is shut down, then the system call runs as it would
 * have. Sockets that are not the server's go straight to the system call.
 */
#include <dlfcn.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http/server.h"

#define LIBRARY_PAGE "<html><head><title>"

/* The library's page, told by a phrase of its body, and what eventapi says. */
static const struct {
  const char *phrase;
  const char *json;
} answers[] = {
  {"header was too big",
   "{\"detail\":\"The request line or its headers are too large.\"}"},
  {"lacked such a header", "{\"detail\":\"A Host header is required.\"}"},
  {"chunked encoding was syntactically incorrect",
   "{\"detail\":\"Malformed chunked request body.\"}"},
  {"chunk size used in your HTTP chunked encoded request is too large",
   "{\"detail\":\"Request body is too large.\"}"},
  {"too large value for <b>Content-Length</b>",
   "{\"detail\":\"Request body is too large.\"}"},
  {"wrong value for <b>Content-Length</b>",
   "{\"detail\":\"Malformed Content-Length header.\"}"},
  {"HTTP version", "{\"detail\":\"HTTP version not supported.\"}"},
  {"syntactically incorrect", "{\"detail\":\"Malformed request.\"}"},
  {"Internal server error", "{\"detail\":\"internal error\"}"},
};

static const char unknown_answer[] = "{\"detail\":\"The request could not be read.\"}";

static const char *
json_for(const char *page, size_t size)
{
  for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
    if (memmem(page, size, answers[i].phrase, strlen(answers[i].phrase)))
      return answers[i].json;
  return unknown_answer;
}

struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode)
{
  if (mode == MHD_RESPMEM_PERSISTENT && size > sizeof LIBRARY_PAGE &&
      memcmp(buffer, LIBRARY_PAGE, sizeof LIBRARY_PAGE - 1) == 0) {
    const char *json = json_for(buffer, size);
    struct MHD_Response *response =
        MHD_create_response_from_buffer_with_free_callback(strlen(json), (void *)json, NULL);
    if (response != NULL &&
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/json; charset=utf-8") == MHD_NO) {
      MHD_destroy_response(response);
      return NULL;
    }
    return response;
  }
  if (mode == MHD_RESPMEM_MUST_COPY && size > 0) {
    void *copy = malloc(size);
    if (copy == NULL)
      return NULL;
    memcpy(copy, buffer, size);
    struct MHD_Response *response =
        MHD_create_response_from_buffer_with_free_callback(size, copy, free);
    if (response == NULL)
      free(copy);
    return response;
  }
  return MHD_create_response_from_buffer_with_free_callback(
      size, buffer, mode == MHD_RESPMEM_MUST_FREE ? free : NULL);
}

bool
http_library_errors_json(void)
{
  /* The definition the dynamic linker binds the library's calls to. */
  void *bound = dlsym(RTLD_DEFAULT, "MHD_create_response_from_buffer");
  return bound == (void *)MHD_create_response_from_buffer;
}

int
shutdown(int fd, int how)
{
  http_server_before_shutdown(fd);
  return (int)syscall(SYS_shutdown, fd, how);
}
