// Node-API class `NativeModel` wrapping LlamaModel (see src/native-model.ts for its TS shape).
#pragma once

#include <napi.h>

namespace siked {
void RegisterNativeModel(Napi::Env env, Napi::Object exports);
}
