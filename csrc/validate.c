/* validate.c: module validation (validate.h).  Placeholder: accepts everything until the
 * validator lands; the structural checks of module_info.c still apply. */
#include "validate.h"

exn_status_t exn_validate(const uint8_t *bytes, size_t len, char *errbuf, size_t errbuf_len)
{
    (void)bytes, (void)len, (void)errbuf, (void)errbuf_len;
    return EXN_OK;
}
