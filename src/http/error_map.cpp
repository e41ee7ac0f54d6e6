#include "http/error_map.h"

namespace crm::http {

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 422;
    case ErrorCode::kInvalidJson: return 400;
    case ErrorCode::kBadRequest: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnsupportedMediaType: return 415;
    case ErrorCode::kUndecodable: return 422;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kCancelled: return 409;
    case ErrorCode::kTimeout: return 504;
    case ErrorCode::kIo: return 500;
    case ErrorCode::kCorrupt: return 500;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

}  // namespace crm::http
