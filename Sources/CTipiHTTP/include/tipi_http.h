#ifndef TIPI_HTTP_H
#define TIPI_HTTP_H

#include <stddef.h>
#include <stdint.h>

/// How a request ended, beside the HTTP status.
typedef enum {
    TIPI_HTTP_OK = 0,
    /// libcurl could not be loaded (the message says which file was looked for).
    TIPI_HTTP_NO_LIBRARY = 1,
    /// Nothing listens at that address, or the host name does not resolve: retrying will not help.
    TIPI_HTTP_UNREACHABLE = 2,
    /// No complete answer within the timeout.
    TIPI_HTTP_TIMED_OUT = 3,
    /// Anything else (TLS, a broken connection, a file that cannot be read): the message says what.
    TIPI_HTTP_FAILED = 4,
} tipi_http_outcome;

/// One request. Strings are NUL-terminated; `headers` holds `header_count` lines such as "Content-Type: application/json".
typedef struct {
    const char *method;
    const char *url;
    const char *const *headers;
    size_t header_count;
    /// The body to send (may be NULL), or `upload_path`: a file streamed as the body (PUT).
    const void *body;
    size_t body_length;
    const char *upload_path;
    /// Seconds for the whole request (connection included).
    double timeout;
    /// A CA bundle to verify the server with (NULL: the system's).
    const char *ca_file;
    /// Skip TLS verification (MLFLOW_TRACKING_INSECURE_TLS).
    int insecure;
    /// `user:password` for HTTP basic authentication (NULL: none).
    const char *user_password;
    /// Answers larger than this are cut off with TIPI_HTTP_FAILED.
    size_t max_response;
} tipi_http_request;

/// The answer: `body` is malloc'd (free it with tipi_http_free); `message` explains a failed outcome.
typedef struct {
    tipi_http_outcome outcome;
    long status;
    char *body;
    size_t body_length;
    char message[320];
} tipi_http_response;

/// Sends `request` with libcurl, loaded on first use (so that programs that never send a request never load it).
/// Thread-safe.
void tipi_http_send(const tipi_http_request *request, tipi_http_response *response);

/// Frees the body of a response.
void tipi_http_free(tipi_http_response *response);

#endif
