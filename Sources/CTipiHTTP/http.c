// HTTP requests through libcurl, loaded with dlopen on the first request.
//
// Linking libcurl (or FoundationNetworking, which links it) costs every program that links Tipi its
// dynamic loading at start: libcurl and its TLS, LDAP, Kerberos, SSH and IDN libraries, ~6 ms of a
// ~14 ms start here. Only runs that send metrics to MLflow need it, so it is loaded when the first
// request is sent. libcurl's ABI is stable: the option and info numbers below are those of
// <curl/curl.h> (fixed since libcurl 7.x), declared here so that building Tipi needs no curl headers.
#include "tipi_http.h"

#if defined(__linux__)

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef void CURL;
struct curl_slist;
typedef int CURLcode;
typedef long long curl_off_t;

enum {
    OPT_WRITEDATA = 10001,
    OPT_URL = 10002,
    OPT_USERPWD = 10005,
    OPT_READDATA = 10009,
    OPT_ERRORBUFFER = 10010,
    OPT_WRITEFUNCTION = 20011,
    OPT_POSTFIELDS = 10015,
    OPT_HTTPHEADER = 10023,
    OPT_CUSTOMREQUEST = 10036,
    OPT_UPLOAD = 46,
    OPT_SSL_VERIFYPEER = 64,
    OPT_CAINFO = 10065,
    OPT_SSL_VERIFYHOST = 81,
    OPT_NOSIGNAL = 99,
    OPT_INFILESIZE_LARGE = 30115,
    OPT_POSTFIELDSIZE_LARGE = 30120,
    OPT_TIMEOUT_MS = 155,
    OPT_CONNECTTIMEOUT_MS = 156,
    INFO_RESPONSE_CODE = 0x200002,
    GLOBAL_ALL = 3,
    E_COULDNT_RESOLVE_PROXY = 5,
    E_COULDNT_RESOLVE_HOST = 6,
    E_COULDNT_CONNECT = 7,
    E_WRITE_ERROR = 23,
    E_OPERATION_TIMEDOUT = 28,
    ERROR_SIZE = 256,
};

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_setopt)(CURL *, int, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, int, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    int loaded;
    char problem[200];
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    static const char *const names[] = {"libcurl.so.4", "libcurl.so", "libcurl-gnutls.so.4", "libcurl-nss.so.4"};
    void *library = NULL;
    for (size_t index = 0; index < sizeof names / sizeof names[0] && library == NULL; index++) {
        library = dlopen(names[index], RTLD_NOW | RTLD_LOCAL);
    }
    if (library == NULL) {
        snprintf(curl.problem, sizeof curl.problem, "cannot load libcurl (libcurl.so.4): %s; install libcurl4", dlerror());
        return;
    }
#define FIND(field, symbol)                                                                                   \
    *(void **)(&curl.field) = dlsym(library, symbol);                                                         \
    if (curl.field == NULL) {                                                                                 \
        snprintf(curl.problem, sizeof curl.problem, "libcurl has no %s (too old a libcurl?)", symbol);        \
        return;                                                                                               \
    }
    FIND(global_init, "curl_global_init")
    FIND(easy_init, "curl_easy_init")
    FIND(easy_reset, "curl_easy_reset")
    FIND(easy_setopt, "curl_easy_setopt")
    FIND(easy_perform, "curl_easy_perform")
    FIND(easy_getinfo, "curl_easy_getinfo")
    FIND(easy_cleanup, "curl_easy_cleanup")
    FIND(easy_strerror, "curl_easy_strerror")
    FIND(slist_append, "curl_slist_append")
    FIND(slist_free_all, "curl_slist_free_all")
#undef FIND
    if (curl.global_init(GLOBAL_ALL) != 0) {
        snprintf(curl.problem, sizeof curl.problem, "libcurl could not be initialised");
        return;
    }
    curl.loaded = 1;
}

// Idle handles, kept so that the next request to the same server reuses its connection.
enum { POOL_SIZE = 4 };
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static CURL *pool[POOL_SIZE];
static int pooled = 0;

static CURL *take_handle(void) {
    CURL *handle = NULL;
    pthread_mutex_lock(&pool_lock);
    if (pooled > 0) handle = pool[--pooled];
    pthread_mutex_unlock(&pool_lock);
    if (handle != NULL) {
        curl.easy_reset(handle);
        return handle;
    }
    return curl.easy_init();
}

static void return_handle(CURL *handle) {
    pthread_mutex_lock(&pool_lock);
    if (pooled < POOL_SIZE) {
        pool[pooled++] = handle;
        handle = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    if (handle != NULL) curl.easy_cleanup(handle);
}

typedef struct {
    char *bytes;
    size_t length;
    size_t capacity;
    size_t limit;
    int overflowed;
} sink;

static size_t receive(char *data, size_t size, size_t count, void *context) {
    sink *into = context;
    size_t length = size * count;
    if (into->length + length > into->limit) {
        into->overflowed = 1;
        return 0;
    }
    if (into->length + length + 1 > into->capacity) {
        size_t capacity = into->capacity ? into->capacity : 4096;
        while (capacity < into->length + length + 1) capacity *= 2;
        char *grown = realloc(into->bytes, capacity);
        if (grown == NULL) {
            into->overflowed = 1;
            return 0;
        }
        into->bytes = grown;
        into->capacity = capacity;
    }
    memcpy(into->bytes + into->length, data, length);
    into->length += length;
    into->bytes[into->length] = 0;
    return length;
}

void tipi_http_send(const tipi_http_request *request, tipi_http_response *response) {
    memset(response, 0, sizeof *response);
    pthread_once(&load_once, load);
    if (!curl.loaded) {
        response->outcome = TIPI_HTTP_NO_LIBRARY;
        snprintf(response->message, sizeof response->message, "%s", curl.problem);
        return;
    }
    FILE *upload = NULL;
    curl_off_t upload_size = 0;
    if (request->upload_path != NULL) {
        upload = fopen(request->upload_path, "rb");
        struct stat status;
        if (upload == NULL || fstat(fileno(upload), &status) != 0) {
            if (upload != NULL) fclose(upload);
            response->outcome = TIPI_HTTP_FAILED;
            snprintf(response->message, sizeof response->message, "cannot read %s", request->upload_path);
            return;
        }
        upload_size = (curl_off_t)status.st_size;
    }
    CURL *handle = take_handle();
    if (handle == NULL) {
        if (upload != NULL) fclose(upload);
        response->outcome = TIPI_HTTP_FAILED;
        snprintf(response->message, sizeof response->message, "libcurl could not make a request");
        return;
    }
    struct curl_slist *headers = NULL;
    for (size_t index = 0; index < request->header_count; index++) headers = curl.slist_append(headers, request->headers[index]);
    // No `Expect: 100-continue` pause before a body.
    headers = curl.slist_append(headers, "Expect:");
    char errors[ERROR_SIZE];
    errors[0] = 0;
    sink into = {NULL, 0, 0, request->max_response ? request->max_response : (size_t)64 << 20, 0};
    long milliseconds = request->timeout > 0.001 ? (long)(request->timeout * 1000) : 1;

    curl.easy_setopt(handle, OPT_URL, request->url);
    curl.easy_setopt(handle, OPT_NOSIGNAL, (long)1);
    curl.easy_setopt(handle, OPT_TIMEOUT_MS, milliseconds);
    curl.easy_setopt(handle, OPT_CONNECTTIMEOUT_MS, milliseconds);
    curl.easy_setopt(handle, OPT_ERRORBUFFER, errors);
    curl.easy_setopt(handle, OPT_WRITEFUNCTION, receive);
    curl.easy_setopt(handle, OPT_WRITEDATA, &into);
    curl.easy_setopt(handle, OPT_HTTPHEADER, headers);
    if (upload != NULL) {
        curl.easy_setopt(handle, OPT_UPLOAD, (long)1);
        curl.easy_setopt(handle, OPT_READDATA, upload);
        curl.easy_setopt(handle, OPT_INFILESIZE_LARGE, upload_size);
    } else if (request->body != NULL) {
        curl.easy_setopt(handle, OPT_POSTFIELDS, request->body);
        curl.easy_setopt(handle, OPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_length);
    }
    curl.easy_setopt(handle, OPT_CUSTOMREQUEST, request->method);
    if (request->ca_file != NULL) curl.easy_setopt(handle, OPT_CAINFO, request->ca_file);
    if (request->insecure) {
        curl.easy_setopt(handle, OPT_SSL_VERIFYPEER, (long)0);
        curl.easy_setopt(handle, OPT_SSL_VERIFYHOST, (long)0);
    }
    if (request->user_password != NULL) curl.easy_setopt(handle, OPT_USERPWD, request->user_password);

    CURLcode code = curl.easy_perform(handle);
    const char *reason = errors[0] ? errors : curl.easy_strerror(code);
    switch (code) {
    case 0:
        response->outcome = TIPI_HTTP_OK;
        curl.easy_getinfo(handle, INFO_RESPONSE_CODE, &response->status);
        response->body = into.bytes;
        response->body_length = into.length;
        into.bytes = NULL;
        break;
    case E_COULDNT_RESOLVE_PROXY:
    case E_COULDNT_RESOLVE_HOST:
    case E_COULDNT_CONNECT:
        response->outcome = TIPI_HTTP_UNREACHABLE;
        snprintf(response->message, sizeof response->message, "%s", reason);
        break;
    case E_OPERATION_TIMEDOUT:
        response->outcome = TIPI_HTTP_TIMED_OUT;
        snprintf(response->message, sizeof response->message, "%s", reason);
        break;
    default:
        response->outcome = TIPI_HTTP_FAILED;
        if (code == E_WRITE_ERROR && into.overflowed) {
            snprintf(response->message, sizeof response->message, "the answer is larger than %zu bytes", into.limit);
        } else {
            snprintf(response->message, sizeof response->message, "%s", reason);
        }
    }
    free(into.bytes);
    // The options point into this call's memory: nothing of it may outlive the call in the pooled handle.
    curl.easy_setopt(handle, OPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl.easy_setopt(handle, OPT_ERRORBUFFER, (char *)NULL);
    curl.slist_free_all(headers);
    if (upload != NULL) fclose(upload);
    return_handle(handle);
}

void tipi_http_free(tipi_http_response *response) {
    free(response->body);
    response->body = NULL;
    response->body_length = 0;
}

#else

// Elsewhere (macOS) Foundation's URLSession sends the requests; this is never called.
void tipi_http_send(const tipi_http_request *request, tipi_http_response *response) {
    (void)request;
    *response = (tipi_http_response){0};
    response->outcome = TIPI_HTTP_NO_LIBRARY;
}

void tipi_http_free(tipi_http_response *response) { (void)response; }

#endif
