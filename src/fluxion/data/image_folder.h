// Image training sets for image models: Fashion-MNIST or a folder of the user's PNG files,
// as f32 [N, C, S, S] scaled to [-1, 1], with random batches and horizontal flips.
#pragma once
#include <cstdint>
#include <string>

#include "fluxion/core/tensor.h"
#include "fluxion/io/png.h"

namespace fx::data {

// Every *.png in `dir` (sorted by name), converted to grey (channels 1) or RGB (3) and
// resized to size x size by area averaging (down) or bilinear interpolation (up). Images
// that are not square are rejected with an error naming the file and its size unless
// `crop` is set (then the centred square is used). Values in [0, 1].
Tensor load_png_folder(const std::string& dir, int64_t size, int64_t channels, bool crop = false);

// One decoded image as f32 [channels, size, size] in [0, 1], by the rules above; `name`
// is used in errors.
Tensor image_to_tensor(const io::Image& img, int64_t size, int64_t channels, bool crop,
                       const std::string& name);

class ImageBatches {
 public:
  // images f32 [N, C, S, S] in [0, 1]; stored as [-1, 1].
  explicit ImageBatches(const Tensor& images_01);
  // Batch `index` of the stream `seed`: rows drawn uniformly with replacement; each image
  // mirrored left-right with probability 1/2 when `flip`. A function of (seed, index) only.
  Tensor batch(int64_t size, uint64_t seed, int64_t index, bool flip) const;
  const Tensor& images() const { return images_; }
  int64_t size() const { return images_.dim(0); }

 private:
  Tensor images_;
};

}  // namespace fx::data
