#pragma once
// Stepping through DER by hand, where reading a field or two of a certificate
// or request costs far less than OpenSSL 3.0's full decoders.

#include <openssl/asn1.h>

namespace cbcs::crypto {

// Steps p into the next TLV, which must be constructed, of definite length,
// with this tag and class: returns its content length, or -1 (p is then
// unspecified).
inline long der_enter(const unsigned char*& p, long available, int want_tag,
                      int want_class = V_ASN1_UNIVERSAL) {
  long len = 0;
  int tag = 0, xclass = 0;
  int rc = ASN1_get_object(&p, &len, &tag, &xclass, available);
  // 0x80: malformed; 0x01 with the constructed bit: indefinite length (BER).
  if ((rc & 0x80) || !(rc & V_ASN1_CONSTRUCTED) || (rc & 0x01) || tag != want_tag ||
      xclass != want_class)
    return -1;
  return len;
}

}  // namespace cbcs::crypto
