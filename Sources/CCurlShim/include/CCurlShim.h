#ifndef TRAFFIC_POLICE_CCURLSHIM_H
#define TRAFFIC_POLICE_CCURLSHIM_H
#include <curl/curl.h>

/// Fixed-argument forms of libcurl's variadic `curl_easy_setopt` and `curl_easy_getinfo`,
/// which Swift cannot call directly. One function per argument type.
CURLcode tp_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode tp_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode tp_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode tp_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode tp_curl_setopt_write_callback(CURL *handle, CURLoption option,
                                       size_t (*callback)(char *, size_t, size_t, void *));
/// For CURLOPT_XFERINFOFUNCTION (progress; a non-zero return aborts the transfer).
/// Header callbacks (CURLOPT_HEADERFUNCTION) use `tp_curl_setopt_write_callback`: same signature.
CURLcode tp_curl_setopt_xferinfo_callback(CURL *handle, CURLoption option,
                                          int (*callback)(void *, curl_off_t, curl_off_t,
                                                          curl_off_t, curl_off_t));
CURLcode tp_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode tp_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode tp_curl_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode tp_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value);
#endif
