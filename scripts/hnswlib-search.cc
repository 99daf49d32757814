  // paperhound: spliced into hnswlib-node's HierarchicalNSW class by scripts/build-vector-addon.ts
  // (the x86-64-v3 build only). searchKnnAsync(query: Float32Array, k) → Promise<{ distances:
  // Float32Array, neighbors: Uint32Array }>, nearest first: searchKnn without a filter, run on one of
  // libuv's pool threads so that the calling thread does other work meanwhile (its BM25 search). The
  // promise holds this object, so it outlives the search. hnswlib's searches only read the graph: the
  // caller must not change it (add, delete, resize, setEf, read another index) before the promise
  // settles (src/search/vector-index.ts waits for that).
  class SearchKnnWorker : public Napi::AsyncWorker {
   public:
    SearchKnnWorker(Napi::Env env, Napi::Object owner, hnswlib::HierarchicalNSW<float>* index, std::vector<float>&& query, size_t k)
      : Napi::AsyncWorker(env, "paperhound:searchKnnAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(Napi::Persistent(owner)),
        index_(index),
        query_(std::move(query)),
        k_(k) {}

    Napi::Promise Promise() const { return deferred_.Promise(); }

    void Execute() override {
      try {
        std::priority_queue<std::pair<float, hnswlib::labeltype>> knn = index_->searchKnn(query_.data(), k_, nullptr);
        const size_t n = knn.size();
        distances_.resize(n);
        neighbors_.resize(n);
        for (size_t i = n; i-- > 0;) {
          distances_[i] = knn.top().first;
          neighbors_[i] = static_cast<uint32_t>(knn.top().second);
          knn.pop();
        }
      } catch (const std::exception& e) {
        SetError(std::string("Hnswlib Error: ") + e.what());
      }
    }

    void OnOK() override {
      Napi::Env env = Env();
      const size_t n = distances_.size();
      Napi::Float32Array distances = Napi::Float32Array::New(env, n);
      Napi::Uint32Array neighbors = Napi::Uint32Array::New(env, n);
      std::copy(distances_.begin(), distances_.end(), distances.Data());
      std::copy(neighbors_.begin(), neighbors_.end(), neighbors.Data());
      Napi::Object result = Napi::Object::New(env);
      result.Set("distances", distances);
      result.Set("neighbors", neighbors);
      deferred_.Resolve(result);
    }

    void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

   private:
    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference owner_;
    hnswlib::HierarchicalNSW<float>* index_;
    std::vector<float> query_;
    size_t k_;
    std::vector<float> distances_;
    std::vector<uint32_t> neighbors_;
  };

  // A query for this graph: the index initialised and the query of its dimension; else throws (false).
  bool queryFits(Napi::Env env, const Napi::Float32Array& query) {
    if (index_ == nullptr) {
      Napi::Error::New(env, "Search index has not been initialized, call `initIndex` in advance.").ThrowAsJavaScriptException();
      return false;
    }
    if (query.ElementLength() != dim_) {
      Napi::Error::New(env, "Invalid the given array length (expected " + std::to_string(dim_) + ", but got " +
                              std::to_string(query.ElementLength()) + ").")
        .ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  Napi::Value searchKnnAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 2 || !info[0].IsTypedArray() || !info[1].IsNumber() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      Napi::TypeError::New(env, "Expected searchKnnAsync(query: Float32Array, k: number).").ThrowAsJavaScriptException();
      return env.Null();
    }
    Napi::Float32Array query = info[0].As<Napi::Float32Array>();
    if (!queryFits(env, query)) return env.Null();
    const double k = info[1].As<Napi::Number>().DoubleValue();
    if (!(k >= 1) || k > static_cast<double>(index_->max_elements_)) {
      Napi::Error::New(env, "Invalid the number of k-nearest neighbors (from 1 to `maxElements`: " +
                              std::to_string(index_->max_elements_) + ").")
        .ThrowAsJavaScriptException();
      return env.Null();
    }
    std::vector<float> vec(query.Data(), query.Data() + dim_);
    if (normalize_) normalizePoint(vec);
    storedPoint(vec);  // half floats in place for "cosine-f16"
    SearchKnnWorker* worker = new SearchKnnWorker(env, info.This().As<Napi::Object>(), index_, std::move(vec), static_cast<size_t>(k));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  // paperhound: similarities(query: Float32Array, labels: Uint32Array) → Float32Array: 1 − distance
  // from the query to each label's stored vector, NaN for a label not in the graph or deleted; what
  // searchKnn would score them, without searching. One call for the few dozen candidates only BM25
  // found (a search's dense-score fill), instead of reading and converting each vector in JS.
  Napi::Value similarities(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      Napi::TypeError::New(env, "Expected similarities(query: Float32Array, labels: Uint32Array).").ThrowAsJavaScriptException();
      return env.Null();
    }
    Napi::Float32Array query = info[0].As<Napi::Float32Array>();
    if (!queryFits(env, query)) return env.Null();
    Napi::Uint32Array labels = info[1].As<Napi::Uint32Array>();
    std::vector<float> vec(query.Data(), query.Data() + dim_);
    if (normalize_) normalizePoint(vec);
    const void* q = storedPoint(vec);
    const size_t n = labels.ElementLength();
    Napi::Float32Array out = Napi::Float32Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      hnswlib::tableint id;
      {
        std::unique_lock<std::mutex> lock(index_->label_lookup_lock);
        auto found = index_->label_lookup_.find(static_cast<hnswlib::labeltype>(labels[i]));
        if (found == index_->label_lookup_.end()) {
          out[i] = std::numeric_limits<float>::quiet_NaN();
          continue;
        }
        id = found->second;
      }
      out[i] = index_->isMarkedDeleted(id) ? std::numeric_limits<float>::quiet_NaN()
                                           : 1.0f - index_->fstdistfunc_(q, index_->getDataByInternalId(id), index_->dist_func_param_);
    }
    return out;
  }

