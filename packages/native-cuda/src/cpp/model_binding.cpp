// N-API binding of the engine's models (the CPU LlamaModel or the CUDA backend). Long calls copy their arguments into a baton, run in a
// Napi::AsyncWorker (which never touches N-API off the main thread) and settle a Promise; errors
// travel as text. One mutex per model serialises its calls; workers hold a shared_ptr, so
// dispose() (or GC) while a call runs frees the model only when that call ends.
#include "model_binding.h"

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "llama_model.h"
#ifdef SIKED_WITH_CUDA
#include "cuda_model.h"
#endif

namespace siked {

namespace {

// One model on either device behind the backend interface.
struct ModelHandle {
  std::mutex mutex;
  std::unique_ptr<ModelBackend> backend;
  ModelBackend& model() { return *backend; }
};

std::unique_ptr<ModelBackend> MakeBackend(const std::string& device, const LlamaConfig& config, int threads,
                                          uint64_t seed, bool random_init) {
  if (device == "cpu") return std::make_unique<LlamaModel>(config, threads, seed, random_init);
  if (device == "cuda") {
#ifdef SIKED_WITH_CUDA
    return make_cuda_model(config, seed, random_init);
#else
    throw std::runtime_error(
        "device 'cuda': this build of the engine has no CUDA backend (nvcc was not found at build time; "
        "rebuild with SIKED_CUDA=ON, or SIKED_CUDA=EMULATE to run the CUDA kernels on the CPU)");
#endif
  }
  throw std::invalid_argument("device must be 'cpu' or 'cuda', got '" + device + "'");
}

// Runs `work` on a worker thread with the model locked; `settle` builds the JS result on the main
// thread. Any std::exception becomes a rejected Promise with its message.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Settle = std::function<Napi::Value(Napi::Env)>;
  PromiseWorker(Napi::Env env, std::shared_ptr<ModelHandle> handle, Work work, Settle settle)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)),
        handle_(std::move(handle)), work_(std::move(work)), settle_(std::move(settle)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }
  void Execute() override {
    try {
      std::lock_guard<std::mutex> lock(handle_->mutex);
      work_();
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown engine error");
    }
  }
  void OnOK() override { deferred_.Resolve(settle_(Env())); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ModelHandle> handle_;
  Work work_;
  Settle settle_;
};

int IntField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("config field ") + key + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}
double NumberField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("config field ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

template <typename T, typename Array>
std::vector<T> CopyTyped(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a typed array");
  Array a = v.As<Array>();
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

Napi::Float32Array ToFloat32(Napi::Env env, const std::vector<float>& data) {
  Napi::Float32Array out = Napi::Float32Array::New(env, data.size());
  std::copy(data.begin(), data.end(), out.Data());
  return out;
}

// Splits a flat token array by lengths into sequences.
std::vector<std::vector<int32_t>> Split(const std::vector<int32_t>& flat, const std::vector<int32_t>& lengths) {
  std::vector<std::vector<int32_t>> out;
  size_t at = 0;
  for (int32_t len : lengths) {
    if (len < 0 || at + size_t(len) > flat.size()) throw std::invalid_argument("sequence lengths do not match the tokens");
    out.emplace_back(flat.begin() + at, flat.begin() + at + len);
    at += len;
  }
  return out;
}

class NativeModel : public Napi::ObjectWrap<NativeModel> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod("parameterTable", &NativeModel::ParameterTable),
                        InstanceMethod("loraTable", &NativeModel::LoraTable),
                        InstanceMethod("parameterCount", &NativeModel::ParameterCount),
                        InstanceMethod("getParameter", &NativeModel::GetParameter),
                        InstanceMethod("mergedParameter", &NativeModel::MergedParameter),
                        InstanceMethod("setParameter", &NativeModel::SetParameter),
                        InstanceMethod("getGradient", &NativeModel::GetGradient),
                        InstanceMethod("enableLora", &NativeModel::EnableLora),
                        InstanceMethod("mergeLora", &NativeModel::MergeLora),
                        InstanceMethod("configureOptimizer", &NativeModel::ConfigureOptimizer),
                        InstanceMethod("setPrecision", &NativeModel::SetPrecision),
                        InstanceMethod("accumulate", &NativeModel::Accumulate),
                        InstanceMethod("step", &NativeModel::Step),
                        InstanceMethod("logits", &NativeModel::Logits),
                        InstanceMethod("score", &NativeModel::Score),
                        InstanceMethod("generate", &NativeModel::Generate),
                        InstanceMethod("dispose", &NativeModel::Dispose)});
  }

  // new NativeModel(config, threads, seed, randomInit, device = 'cpu')
  explicit NativeModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeModel>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsObject())
      throw Napi::TypeError::New(env, "NativeModel(config, threads, seed, randomInit)");
    Napi::Object o = info[0].As<Napi::Object>();
    LlamaConfig c;
    c.vocab_size = IntField(o, "vocab_size");
    c.hidden_size = IntField(o, "hidden_size");
    c.intermediate_size = IntField(o, "intermediate_size");
    c.num_layers = IntField(o, "num_hidden_layers");
    c.num_heads = IntField(o, "num_attention_heads");
    c.num_kv_heads = IntField(o, "num_key_value_heads");
    c.head_dim = IntField(o, "head_dim");
    c.rms_norm_eps = float(NumberField(o, "rms_norm_eps"));
    c.rope_theta = NumberField(o, "rope_theta");
    c.max_position_embeddings = IntField(o, "max_position_embeddings");
    c.tie_word_embeddings = o.Get("tie_word_embeddings").ToBoolean();
    c.qkv_bias = o.Get("qkv_bias").ToBoolean();
    const int threads = info[1].As<Napi::Number>().Int32Value();
    const uint64_t seed = uint64_t(info[2].As<Napi::Number>().Int64Value());
    const bool random_init = info[3].ToBoolean();
    const std::string device = info.Length() > 4 && info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "cpu";
    try {
      auto handle = std::make_shared<ModelHandle>();
      handle->backend = MakeBackend(device, c, threads, seed, random_init);
      handle_ = std::move(handle);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  // The live model, or a JS error when disposed.
  std::shared_ptr<ModelHandle> Live(Napi::Env env) {
    if (!handle_) throw Napi::Error::New(env, "this Model has been disposed");
    return handle_;
  }
  // Runs a quick call synchronously under the model lock, turning exceptions into JS errors.
  template <typename Fn>
  auto Sync(Napi::Env env, Fn&& fn) {
    auto h = Live(env);
    std::lock_guard<std::mutex> lock(h->mutex);
    try {
      return fn(h->model());
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

  static Napi::Array Table(Napi::Env env, const std::vector<TensorEntry>& table) {
    Napi::Array out = Napi::Array::New(env, table.size());
    for (size_t i = 0; i < table.size(); ++i) {
      Napi::Object t = Napi::Object::New(env);
      t.Set("name", table[i].name);
      Napi::Array shape = Napi::Array::New(env, table[i].shape.size());
      for (size_t d = 0; d < table[i].shape.size(); ++d) shape.Set(uint32_t(d), double(table[i].shape[d]));
      t.Set("shape", shape);
      out.Set(uint32_t(i), t);
    }
    return out;
  }

  Napi::Value ParameterTable(const Napi::CallbackInfo& info) {
    return Sync(info.Env(), [&](ModelBackend& m) { return Table(info.Env(), m.parameters()); });
  }
  Napi::Value LoraTable(const Napi::CallbackInfo& info) {
    return Sync(info.Env(), [&](ModelBackend& m) { return Table(info.Env(), m.lora_parameters()); });
  }
  Napi::Value ParameterCount(const Napi::CallbackInfo& info) {
    return Sync(info.Env(), [&](ModelBackend& m) { return Napi::Number::New(info.Env(), double(m.parameter_count())); });
  }
  Napi::Value GetParameter(const Napi::CallbackInfo& info) {
    const std::string name = info[0].As<Napi::String>();
    return Sync(info.Env(), [&](ModelBackend& m) { return ToFloat32(info.Env(), m.get_parameter(name)); });
  }
  Napi::Value MergedParameter(const Napi::CallbackInfo& info) {
    const std::string name = info[0].As<Napi::String>();
    return Sync(info.Env(), [&](ModelBackend& m) { return ToFloat32(info.Env(), m.merged_parameter(name)); });
  }
  Napi::Value GetGradient(const Napi::CallbackInfo& info) {
    const std::string name = info[0].As<Napi::String>();
    return Sync(info.Env(), [&](ModelBackend& m) { return ToFloat32(info.Env(), m.get_gradient(name)); });
  }
  Napi::Value SetParameter(const Napi::CallbackInfo& info) {
    const std::string name = info[0].As<Napi::String>();
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(info.Env(), "setParameter: data must be a Float32Array");
    Napi::Float32Array data = info[1].As<Napi::Float32Array>();
    Sync(info.Env(), [&](ModelBackend& m) {
      m.set_parameter(name, data.Data(), data.ElementLength());
      return 0;
    });
    return info.Env().Undefined();
  }
  // enableLora(rank, alpha, targets: string[], seed)
  Napi::Value EnableLora(const Napi::CallbackInfo& info) {
    LoraSpec spec;
    spec.rank = info[0].As<Napi::Number>().Int32Value();
    spec.alpha = info[1].As<Napi::Number>().FloatValue();
    Napi::Array targets = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < targets.Length(); ++i) {
      const std::string t = targets.Get(i).As<Napi::String>();
      bool found = false;
      for (int p = 0; p < kProjectionCount; ++p)
        if (t == projection_name(p)) spec.targets[p] = found = true;
      if (!found) throw Napi::Error::New(info.Env(), "unknown LoRA target '" + t + "'");
    }
    spec.seed = uint64_t(info[3].As<Napi::Number>().Int64Value());
    Sync(info.Env(), [&](ModelBackend& m) {
      m.enable_lora(spec);
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value MergeLora(const Napi::CallbackInfo& info) {
    Sync(info.Env(), [&](ModelBackend& m) {
      m.merge_lora();
      return 0;
    });
    return info.Env().Undefined();
  }
  // configureOptimizer(beta1, beta2, eps, weightDecay, maxGradNorm)
  Napi::Value ConfigureOptimizer(const Napi::CallbackInfo& info) {
    AdamWOptions o;
    o.beta1 = info[0].As<Napi::Number>().FloatValue();
    o.beta2 = info[1].As<Napi::Number>().FloatValue();
    o.eps = info[2].As<Napi::Number>().FloatValue();
    o.weight_decay = info[3].As<Napi::Number>().FloatValue();
    o.max_grad_norm = info[4].As<Napi::Number>().FloatValue();
    Sync(info.Env(), [&](ModelBackend& m) {
      m.configure_optimizer(o);
      return 0;
    });
    return info.Env().Undefined();
  }

  // setPrecision('fp32' | 'bf16') -> the kernel that runs (ModelBackend::set_precision)
  Napi::Value SetPrecision(const Napi::CallbackInfo& info) {
    const std::string precision = info[0].As<Napi::String>().Utf8Value();
    std::string kernel;
    Sync(info.Env(), [&](ModelBackend& m) {
      kernel = m.set_precision(precision);
      return 0;
    });
    return Napi::String::New(info.Env(), kernel);
  }

  Napi::Value Queue(Napi::Env env, PromiseWorker::Work work, PromiseWorker::Settle settle) {
    auto* worker = new PromiseWorker(env, Live(env), std::move(work), std::move(settle));
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

  // accumulate(tokens: Int32Array, mask: Uint8Array, batchSize, seqLen, positions?: Int32Array)
  //   -> {loss, tokens}; positions (packed rows) as ModelBackend::accumulate reads them.
  Napi::Value Accumulate(const Napi::CallbackInfo& info) {
    auto tokens = std::make_shared<std::vector<int32_t>>(CopyTyped<int32_t, Napi::Int32Array>(info[0], "tokens"));
    auto mask = std::make_shared<std::vector<uint8_t>>(CopyTyped<uint8_t, Napi::Uint8Array>(info[1], "lossMask"));
    const int B = info[2].As<Napi::Number>().Int32Value(), T = info[3].As<Napi::Number>().Int32Value();
    const bool packed = info.Length() > 4 && !info[4].IsUndefined();
    auto positions = std::make_shared<std::vector<int32_t>>(
        packed ? CopyTyped<int32_t, Napi::Int32Array>(info[4], "positions") : std::vector<int32_t>());
    auto result = std::make_shared<std::pair<double, int64_t>>();
    auto h = Live(info.Env());
    return Queue(
        info.Env(),
        [h, tokens, mask, positions, packed, B, T, result] {
          if (tokens->size() != size_t(B) * T || mask->size() != tokens->size())
            throw std::invalid_argument("tokens and lossMask must have batchSize * seqLen entries");
          if (packed && positions->size() != tokens->size())
            throw std::invalid_argument("positions must have batchSize * seqLen entries");
          *result = h->model().accumulate(tokens->data(), mask->data(), B, T, packed ? positions->data() : nullptr);
        },
        [result](Napi::Env env) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("loss", result->first);
          o.Set("tokens", double(result->second));
          return o;
        });
  }
  Napi::Value Step(const Napi::CallbackInfo& info) {
    const float lr = info[0].As<Napi::Number>().FloatValue();
    auto stats = std::make_shared<StepStats>();
    auto h = Live(info.Env());
    return Queue(
        info.Env(), [h, lr, stats] { *stats = h->model().step(lr); },
        [stats](Napi::Env env) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("loss", stats->loss);
          o.Set("gradNorm", stats->grad_norm);
          o.Set("tokens", double(stats->tokens));
          return o;
        });
  }
  // logits(tokens: Int32Array, batchSize, seqLen) -> Float32Array (B*T*V)
  Napi::Value Logits(const Napi::CallbackInfo& info) {
    auto tokens = std::make_shared<std::vector<int32_t>>(CopyTyped<int32_t, Napi::Int32Array>(info[0], "tokens"));
    const int B = info[1].As<Napi::Number>().Int32Value(), T = info[2].As<Napi::Number>().Int32Value();
    auto out = std::make_shared<std::vector<float>>();
    auto h = Live(info.Env());
    return Queue(
        info.Env(),
        [h, tokens, B, T, out] {
          if (tokens->size() != size_t(B) * T) throw std::invalid_argument("tokens must have batchSize * seqLen entries");
          *out = h->model().logits(tokens->data(), B, T);
        },
        [out](Napi::Env env) { return ToFloat32(env, *out); });
  }
  // score(flat: Int32Array, lengths: Int32Array) -> Float32Array[]
  Napi::Value Score(const Napi::CallbackInfo& info) {
    auto flat = CopyTyped<int32_t, Napi::Int32Array>(info[0], "tokens");
    auto lengths = CopyTyped<int32_t, Napi::Int32Array>(info[1], "lengths");
    auto sequences = std::make_shared<std::vector<std::vector<int32_t>>>();
    try {
      *sequences = Split(flat, lengths);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    auto out = std::make_shared<std::vector<std::vector<float>>>();
    auto h = Live(info.Env());
    return Queue(
        info.Env(), [h, sequences, out] { *out = h->model().score(*sequences); },
        [out](Napi::Env env) {
          Napi::Array a = Napi::Array::New(env, out->size());
          for (size_t i = 0; i < out->size(); ++i) a.Set(uint32_t(i), ToFloat32(env, (*out)[i]));
          return a;
        });
  }
  // generate(flat, lengths, {maxNewTokens, temperature, topK, topP, seed, stopTokenIds, numSamples,
  //   weights?: 'bf16' | 'int8'})
  Napi::Value Generate(const Napi::CallbackInfo& info) {
    auto flat = CopyTyped<int32_t, Napi::Int32Array>(info[0], "prompts");
    auto lengths = CopyTyped<int32_t, Napi::Int32Array>(info[1], "lengths");
    auto prompts = std::make_shared<std::vector<std::vector<int32_t>>>();
    try {
      *prompts = Split(flat, lengths);
    } catch (const std::exception& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    Napi::Object o = info[2].As<Napi::Object>();
    auto spec = std::make_shared<SampleSpec>();
    spec->max_new_tokens = o.Get("maxNewTokens").As<Napi::Number>().Int32Value();
    spec->temperature = o.Get("temperature").As<Napi::Number>().FloatValue();
    spec->top_k = o.Get("topK").As<Napi::Number>().Int32Value();
    spec->top_p = o.Get("topP").As<Napi::Number>().FloatValue();
    spec->seed = uint64_t(o.Get("seed").As<Napi::Number>().Int64Value());
    spec->num_samples = o.Get("numSamples").As<Napi::Number>().Int32Value();
    spec->stop_tokens = CopyTyped<int32_t, Napi::Int32Array>(o.Get("stopTokenIds"), "stopTokenIds");
    const std::string weights = o.Has("weights") && o.Get("weights").IsString()
                                    ? o.Get("weights").As<Napi::String>().Utf8Value()
                                    : "fp32";
    spec->weights = weights == "bf16"   ? DecodeWeights::Bf16
                    : weights == "int8" ? DecodeWeights::Int8
                                        : DecodeWeights::Fp32;
    auto out = std::make_shared<std::vector<GenerationResult>>();
    auto h = Live(info.Env());
    return Queue(
        info.Env(), [h, prompts, spec, out] { *out = h->model().generate(*prompts, *spec); },
        [out](Napi::Env env) {
          Napi::Array a = Napi::Array::New(env, out->size());
          for (size_t i = 0; i < out->size(); ++i) {
            const GenerationResult& r = (*out)[i];
            Napi::Object g = Napi::Object::New(env);
            g.Set("promptIndex", r.prompt_index);
            g.Set("sampleIndex", r.sample_index);
            Napi::Int32Array tokens = Napi::Int32Array::New(env, r.tokens.size());
            std::copy(r.tokens.begin(), r.tokens.end(), tokens.Data());
            g.Set("tokens", tokens);
            g.Set("logprobs", ToFloat32(env, r.logprobs));
            g.Set("finishReason", r.stopped ? "stop" : "length");
            a.Set(uint32_t(i), g);
          }
          return a;
        });
  }
  // Frees the model now (or when its running call ends). Idempotent.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    handle_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<ModelHandle> handle_;  // GC of the JS object releases it as a safety net
};

}  // namespace

void RegisterNativeModel(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeModel", NativeModel::Define(env));
}

}  // namespace siked
