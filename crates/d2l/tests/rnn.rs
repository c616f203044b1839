//! Recurrent neural networks (`book/chapter_recurrent-neural-networks`): text preprocessing and
//! the vocabulary (unknown token, minimum frequency, reserved tokens), random and sequential
//! partitioning cover the corpus as specified, the Time Machine examples are shifted by one
//! token, gradient clipping bounds the global norm of an RNN's gradients, the scratch RNN agrees
//! with burn's layer on the same weights, and generation is deterministic.

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::tensor::Distribution;
use d2l::prelude::*;

fn rows(t: &Tensor<2, Int>) -> Vec<Vec<usize>> {
    let [_, n] = t.dims();
    let values: Vec<usize> = t.to_data().iter::<i64>().map(|i| i as usize).collect();
    values.chunks(n).map(<[usize]>::to_vec).collect()
}

fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

#[test]
fn preprocessing_keeps_lowercase_letters_and_single_spaces() {
    assert_eq!(preprocess_text("It's 1895:  The Time-Traveller!"), "it s the time traveller ");
    assert_eq!(preprocess_text("\n\nI\n"), " i ");
    assert_eq!(tokenize("ab c", Token::Char), ["a", "b", " ", "c"]);
    assert_eq!(tokenize(" the  time\nmachine ", Token::Word), ["the", "time", "machine"]);
}

#[test]
fn vocabulary_sorts_tokens_counts_them_and_maps_unknown_ones_to_unk() {
    let vocab = Vocab::new(&["b", "a", "b", "c", "b", "a"], 0, &[]);
    assert_eq!(vocab.idx_to_token, ["<unk>", "a", "b", "c"]);
    assert_eq!(vocab.len(), 4);
    assert_eq!(vocab.unk(), 0);
    let freqs: Vec<(&str, usize)> = vocab.token_freqs.iter().map(|(t, f)| (t.as_str(), *f)).collect();
    assert_eq!(freqs, [("b", 3), ("a", 2), ("c", 1)]);
    assert_eq!(vocab.indices(&["c", "a", "z", "b"]), [3, 1, 0, 2]);
    assert_eq!(vocab.to_tokens(&[2, 1, 0]), ["b", "a", "<unk>"]);
    assert_eq!(vocab.get("unseen"), vocab.unk());
}

#[test]
fn ties_in_token_frequencies_keep_the_order_of_first_occurrence() {
    let vocab = Vocab::new(&["y", "x", "z", "x", "y", "z"], 0, &[]);
    let order: Vec<&str> = vocab.token_freqs.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(order, ["y", "x", "z"]);
}

#[test]
fn tokens_below_the_minimum_frequency_become_unknown() {
    let tokens = ["the", "the", "the", "time", "time", "machine"];
    let vocab = Vocab::new(&tokens, 2, &[]);
    assert_eq!(vocab.idx_to_token, ["<unk>", "the", "time"]);
    assert_eq!(vocab.get("machine"), vocab.unk());
    // Every token is still counted, indexed or not.
    assert_eq!(vocab.token_freqs.len(), 3);
    assert_eq!(Vocab::new(&tokens, 4, &[]).idx_to_token, ["<unk>"]);
}

#[test]
fn reserved_tokens_are_always_indexed_once() {
    let vocab = Vocab::new(&["<pad>", "a", "a"], 0, &["<pad>", "<eos>"]);
    assert_eq!(vocab.idx_to_token, ["<eos>", "<pad>", "<unk>", "a"]);
    assert_ne!(vocab.get("<eos>"), vocab.unk());
    assert_eq!(vocab.get("<bos>"), vocab.unk());
    // Reserved tokens are kept even below the minimum frequency.
    assert_eq!(Vocab::new(&["a"], 5, &["<pad>"]).idx_to_token, ["<pad>", "<unk>"]);
}

#[test]
fn the_text_pipeline_round_trips_through_the_vocabulary() {
    let (corpus, vocab) = build_corpus("The Time Machine, by H. G. Wells", None);
    assert_eq!(vocab.to_tokens(&corpus).concat(), "the time machine by h g wells");
    let (again, _) = build_corpus("Wells & the machine?", Some(vocab.clone()));
    assert_eq!(vocab.to_tokens(&again).concat(), "wells the machine ");
}

#[test]
fn random_partitioning_covers_disjoint_aligned_subsequences() {
    let device = d2l::device();
    let (len, batch_size, num_steps) = (103, 3, 5);
    let corpus: Vec<usize> = (0..len).collect();
    for seed in 0..20 {
        device.seed(seed);
        let batches = seq_data_iter_random(&corpus, batch_size, num_steps, &device);
        let mut starts = Vec::new();
        for (x, y) in &batches {
            assert_eq!(x.dims(), [batch_size, num_steps]);
            for (x_row, y_row) in rows(x).iter().zip(rows(y)) {
                let s = x_row[0];
                assert_eq!(*x_row, (s..s + num_steps).collect::<Vec<_>>(), "a subsequence of the corpus");
                assert_eq!(y_row, (s + 1..s + num_steps + 1).collect::<Vec<_>>(), "the targets, one later");
                starts.push(s);
            }
        }
        let offset = starts.iter().min().unwrap() % num_steps;
        assert!(starts.iter().all(|s| s % num_steps == offset), "all cut at one offset: {starts:?}");
        let num_subseqs = (len - offset - 1) / num_steps;
        assert_eq!(batches.len(), num_subseqs / batch_size);
        starts.sort();
        starts.dedup();
        assert_eq!(starts.len(), batches.len() * batch_size, "no subsequence twice");
        assert!(starts.iter().all(|&s| s + num_steps < len), "room for every target");
    }
}

#[test]
fn random_partitioning_shuffles_and_varies_the_offset() {
    let device = d2l::device();
    let corpus: Vec<usize> = (0..1000).collect();
    let (mut offsets, mut orders) = (Vec::new(), Vec::new());
    for seed in 0..20 {
        device.seed(seed);
        let batches = seq_data_iter_random(&corpus, 4, 7, &device);
        let firsts: Vec<usize> = batches.iter().map(|(x, _)| rows(x)[0][0]).collect();
        offsets.push(firsts[0] % 7);
        orders.push(firsts.windows(2).all(|w| w[0] < w[1]));
    }
    offsets.sort();
    offsets.dedup();
    assert!(offsets.len() > 1, "the offset should vary from epoch to epoch");
    assert!(orders.iter().all(|sorted| !sorted), "the subsequences should come in a random order");
}

#[test]
fn sequential_partitioning_continues_every_row_across_minibatches() {
    let device = d2l::device();
    let (len, batch_size, num_steps) = (103, 3, 5);
    let corpus: Vec<usize> = (0..len).collect();
    for seed in 0..20 {
        device.seed(seed);
        let batches = seq_data_iter_sequential(&corpus, batch_size, num_steps, &device);
        let first = rows(&batches[0].0);
        let offset = first[0][0];
        assert!(offset <= num_steps, "the offset is at most num_steps: {offset}");
        let row_len = (len - offset - 1) / batch_size;
        assert_eq!(batches.len(), row_len / num_steps);
        for r in 0..batch_size {
            let x_row: Vec<usize> = batches.iter().flat_map(|(x, _)| rows(x)[r].clone()).collect();
            let y_row: Vec<usize> = batches.iter().flat_map(|(_, y)| rows(y)[r].clone()).collect();
            let start = offset + r * row_len;
            let expected: Vec<usize> = (start..start + batches.len() * num_steps).collect();
            assert_eq!(x_row, expected, "row {r} reads the corpus without gaps");
            assert_eq!(y_row, expected.iter().map(|i| i + 1).collect::<Vec<_>>());
        }
    }
}

#[test]
fn partitioning_a_corpus_too_short_gives_no_minibatches() {
    let device = d2l::device();
    let corpus: Vec<usize> = (0..4).collect();
    assert!(seq_data_iter_random(&corpus, 2, 5, &device).is_empty());
    assert!(seq_data_iter_sequential(&corpus, 2, 5, &device).is_empty());
}

#[test]
fn time_machine_examples_start_at_every_position_with_targets_one_later() {
    let hub = DataHub::from_env();
    let config = TimeMachineConfig::new(8, 10).with_num_train(50).with_num_val(20);
    let data = match config.load(&hub, &d2l::device()) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("skipped: The Time Machine is not at hand ({e}); set D2L_DATA_MIRROR");
            return;
        }
    };
    assert_eq!(data.vocab.len(), 28);
    assert_eq!(data.x.dims(), [70, 10]);
    let (x, y) = (rows(&data.x), rows(&data.y));
    for i in 0..69 {
        assert_eq!(x[i][1..], y[i][..9]);
        assert_eq!(x[i + 1][..], y[i][..]);
    }
    let text = data.vocab.to_tokens(&x[0]).concat();
    assert_eq!(text, "the time m");
    let device = d2l::device();
    let train: usize = data.train_dataloader(&device).map(|(x, _)| x.dims()[0]).sum();
    let val: usize = data.val_dataloader(&device).map(|(x, _)| x.dims()[0]).sum();
    assert_eq!((train, val), (50, 20));
}

/// A small scratch language model and a minibatch of tokens for it.
fn scratch_lm(vocab_size: usize, seed: u64) -> (RnnLmScratch, TokenBatch) {
    let device = d2l::device();
    device.seed(seed);
    let rnn = RnnScratchConfig::new(vocab_size, 16).with_sigma(0.5).init(&device);
    let model = RnnLmScratch::new(rnn, vocab_size, 1.0, &device);
    let tokens = |shape: [usize; 2]| {
        Tensor::<2>::random(shape, Distribution::Uniform(0.0, vocab_size as f64), &device).int()
    };
    (model, (tokens([4, 12]), tokens([4, 12])))
}

#[test]
fn clipping_bounds_the_global_norm_of_rnn_gradients_and_keeps_their_direction() {
    let (model, batch) = scratch_lm(10, 7);
    let model = model.train();
    let grads = GradientsParams::from_grads(model.training_step(batch).backward(), &model);
    let norm = grad_norm(&grads, &model);
    assert!(norm > 0.0);
    let w_hh = grads.get::<2>(model.rnn.w_hh.id).unwrap();
    let grads = clip_gradients(grads, 10.0 * norm, &model);
    assert!((grad_norm(&grads, &model) - norm).abs() < 1e-4 * norm, "a small norm stays as it is");
    let max_norm = norm / 10.0;
    let grads = clip_gradients(grads, max_norm, &model);
    let clipped = grad_norm(&grads, &model);
    assert!(clipped <= max_norm * (1.0 + 1e-4), "norm {clipped} exceeds {max_norm}");
    assert!((clipped - max_norm).abs() < 1e-4 * max_norm, "a large norm becomes max_norm: {clipped}");
    // Every gradient is scaled by the same factor, so the direction is kept.
    let w_hh_clipped = grads.get::<2>(model.rnn.w_hh.id).unwrap();
    let largest = w_hh.clone().abs().max().into_scalar::<f32>();
    assert!(max_abs_diff(w_hh_clipped, w_hh * (max_norm / norm)) <= 1e-4 * largest);
}

#[test]
fn scratch_rnn_agrees_with_burns_rnn_on_the_same_weights() {
    let device = d2l::device();
    let (num_inputs, num_hiddens, num_steps, batch_size) = (5, 7, 9, 3);
    let concise = Rnn::new(num_inputs, num_hiddens, &device);
    let gate = &concise.rnn.gate;
    let bias = |linear: &nn::Linear| linear.bias.as_ref().map(|b| b.val()).unwrap();
    let scratch = RnnScratch {
        w_xh: Param::from_tensor(gate.input_transform.weight.val()),
        w_hh: Param::from_tensor(gate.hidden_transform.weight.val()),
        // burn's layer has a bias in each of its two affine maps; they add up.
        b_h: Param::from_tensor(bias(&gate.input_transform) + bias(&gate.hidden_transform)),
        num_hiddens,
        sigma: 0.01,
    };
    let normal = Distribution::Normal(0.0, 1.0);
    let inputs = Tensor::<3>::random([num_steps, batch_size, num_inputs], normal, &device);
    let state = Tensor::<2>::random([batch_size, num_hiddens], normal, &device);
    let (outputs, last) = scratch.forward(inputs.clone(), Some(state.clone()));
    let (expected, expected_last) = concise.forward(inputs, Some(state));
    assert_eq!(expected.dims(), [num_steps, batch_size, num_hiddens]);
    assert!(max_abs_diff(Tensor::stack(outputs, 0), expected) < 1e-5);
    assert!(max_abs_diff(last, expected_last) < 1e-5);
}

#[test]
fn language_models_score_every_step_of_every_sequence() {
    let device = d2l::device();
    let (model, (x, y)) = scratch_lm(10, 3);
    assert_eq!(model.forward(x.clone()).dims(), [4, 12, 10]);
    let concise = RnnLm::new(Rnn::new(10, 16, &device), 10, 1.0, &device);
    let scores = concise.forward(x.clone());
    assert_eq!(scores.dims(), [4, 12, 10]);
    // The loss of untrained models is close to log(vocab_size), that of uniform guessing.
    let loss = concise.loss(scores, y).into_scalar::<f64>();
    assert!((loss - 10f64.ln()).abs() < 1.5, "loss {loss}");
    // Running step by step from the returned state gives the same scores as one call.
    let (all, _) = model.forward_state(x.clone(), None);
    let (first, state) = model.forward_state(x.clone().slice([0..4, 0..5]), None);
    let (rest, _) = model.forward_state(x.slice([0..4, 5..12]), Some(state));
    assert!(max_abs_diff(Tensor::cat(vec![first, rest], 1), all) < 1e-5);
}

#[test]
fn generation_is_deterministic_for_a_fixed_model_and_prefix() {
    let device = d2l::device();
    let vocab = Vocab::new(&tokenize("the time machine", Token::Char), 0, &[]);
    device.seed(11);
    let rnn = RnnScratchConfig::new(vocab.len(), 16).with_sigma(0.5).init(&device);
    let model = RnnLmScratch::new(rnn, vocab.len(), 1.0, &device);
    let first = model.predict("time", 12, &vocab, &device);
    // One token per character, and `<unk>` counts as one token.
    assert_eq!(first.replace("<unk>", "?").chars().count(), 4 + 12);
    assert!(first.starts_with("time"));
    for _ in 0..3 {
        assert_eq!(model.predict("time", 12, &vocab, &device), first);
    }
    let concise = RnnLm::new(Rnn::new(vocab.len(), 16, &device), vocab.len(), 1.0, &device);
    let text = concise.predict("the", 8, &vocab, &device);
    assert_eq!(concise.predict("the", 8, &vocab, &device), text);
    assert!(text.starts_with("the"));
    // Characters outside the vocabulary read as `<unk>`.
    assert!(model.predict("?", 0, &vocab, &device) == "<unk>");
}

#[test]
fn perplexity_board_exponentiates_the_loss_curves() {
    let mut board = ProgressBoard::new(PlotOptions::default());
    board.display = false;
    board.draw(0.5, 2.0f64.ln(), "train_loss", 1);
    board.draw(1.0, 3.0f64.ln(), "val_loss", 1);
    board.draw(1.0, 0.9, "val_acc", 1);
    let ppl = board.perplexity();
    let labels: Vec<&str> = ppl.series.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["train_ppl", "val_ppl"]);
    assert!((ppl.series[0].points[0].1 - 2.0).abs() < 1e-12);
    assert!((ppl.series[1].points[0].1 - 3.0).abs() < 1e-12);
}
