  // paperhound: spliced into hnswlib-node's HierarchicalNSW class by scripts/build-vector-addon.ts
  // (the x86-64-v3 build only). addPoints(points: Float32Array, labels: Uint32Array, threads)
  // inserts labels.length vectors, row i of points under labels[i], on up to `threads` threads at
  // once, as hnswlib's Python bindings do: hnswlib's addPoint may be called concurrently (it locks
  // per element, per label and for the entry point). The graph then depends on the threads' timing,
  // not on anything else. Returns when every vector is in; the first hnswlib error is thrown after
  // the others have stopped.
  Napi::Value addPoints(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      Napi::TypeError::New(env, "Expected addPoints(points: Float32Array, labels: Uint32Array, threads: number).")
        .ThrowAsJavaScriptException();
      return env.Null();
    }
    if (index_ == nullptr) {
      Napi::Error::New(env, "Search index has not been initialized, call `initIndex` in advance.").ThrowAsJavaScriptException();
      return env.Null();
    }
    Napi::Float32Array points = info[0].As<Napi::Float32Array>();
    Napi::Uint32Array labels = info[1].As<Napi::Uint32Array>();
    const size_t n = labels.ElementLength();
    if (points.ElementLength() != n * static_cast<size_t>(dim_)) {
      Napi::Error::New(env, "Invalid the given points length (expected " + std::to_string(n) + " x " + std::to_string(dim_) +
                              ", but got " + std::to_string(points.ElementLength()) + ").")
        .ThrowAsJavaScriptException();
      return env.Null();
    }
    if (n == 0) return env.Null();
    size_t threads = info[2].As<Napi::Number>().Uint32Value();
    if (threads < 1) threads = 1;
    if (threads > n) threads = n;

    const float* data = points.Data();
    const uint32_t* ids = labels.Data();
    std::atomic<size_t> next(0);
    std::mutex failed_lock;
    std::string failed;
    auto insert = [&]() {
      std::vector<float> vec(dim_);
      for (;;) {
        const size_t i = next.fetch_add(1);
        if (i >= n) return;
        std::copy(data + i * dim_, data + (i + 1) * dim_, vec.begin());
        if (normalize_) normalizePoint(vec);
        try {
          index_->addPoint(storedPoint(vec), static_cast<hnswlib::labeltype>(ids[i]), false);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> guard(failed_lock);
          if (failed.empty()) failed = e.what();
          next.store(n);
          return;
        }
      }
    };
    std::vector<std::thread> helpers;
    for (size_t t = 1; t < threads; t++) {
      try {
        helpers.emplace_back(insert);
      } catch (const std::system_error&) {
        break;  // no more threads to be had: the ones running (and this one) do the rest
      }
    }
    insert();
    for (auto& h : helpers) h.join();
    if (!failed.empty()) {
      Napi::Error::New(env, "Hnswlib Error: " + failed).ThrowAsJavaScriptException();
      return env.Null();
    }
    return env.Null();
  }

