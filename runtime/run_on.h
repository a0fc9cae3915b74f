#pragma once

#include <future>
#include <type_traits>
#include <utility>

namespace nukihil {

// Runs `f` through `post` (which hands a callable to another thread's loop) and waits for
// its result. Exceptions thrown by `f` come back out of this call.
template <class Post, class F>
auto runOn(Post&& post, F&& f) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  std::packaged_task<R()> task(std::forward<F>(f));
  auto future = task.get_future();
  std::forward<Post>(post)([&task] { task(); });
  return future.get();
}

}  // namespace nukihil
