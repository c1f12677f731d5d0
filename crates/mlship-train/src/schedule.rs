//! Learning-rate schedules for stochastic gradient descent.
//!
//! `t` counts epochs from 0; the rate at epoch `t` is used for every mini-batch of that epoch.

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::params::{at_least, in_range, positive};

/// How the learning rate changes with the epoch `t`, from the initial rate `lr0`.
///
/// Written tagged by `kind`: `{ kind = "exponential", decay = 0.95 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// `lr = lr0`.
    Constant,
    /// `lr = lr0 · gamma^⌊t / step_size⌋`.
    Step {
        /// Epochs between drops (≥ 1).
        step_size: usize,
        /// Factor of each drop, in `(0, 1]`.
        gamma: f64,
    },
    /// `lr = lr0 · decay^t`.
    Exponential {
        /// Factor per epoch, in `(0, 1]`.
        decay: f64,
    },
    /// `lr = lr0 / (1 + decay · t)`.
    InverseTime {
        /// Decay rate, ≥ 0.
        decay: f64,
    },
    /// `lr = lr_min + ½ (lr0 − lr_min)(1 + cos(π · min(t, t_max) / t_max))`.
    Cosine {
        /// Epochs of the half period (≥ 1).
        t_max: usize,
        /// The floor reached at `t_max`, in `[0, lr0]`.
        lr_min: f64,
    },
}

impl Default for Schedule {
    /// `inverse_time` with `decay = 0.1`.
    fn default() -> Self {
        Self::InverseTime { decay: 0.1 }
    }
}

impl Schedule {
    /// Checks the schedule's own parameters against the initial rate `lr0`.
    pub fn validate(&self, lr0: f64) -> Result<()> {
        match *self {
            Self::Constant => Ok(()),
            Self::Step { step_size, gamma } => {
                at_least("schedule.step_size", step_size, 1)?;
                positive("schedule.gamma", gamma, false)?;
                in_range("schedule.gamma", gamma, 0.0, 1.0)
            }
            Self::Exponential { decay } => {
                positive("schedule.decay", decay, false)?;
                in_range("schedule.decay", decay, 0.0, 1.0)
            }
            Self::InverseTime { decay } => positive("schedule.decay", decay, true),
            Self::Cosine { t_max, lr_min } => {
                at_least("schedule.t_max", t_max, 1)?;
                if lr_min.is_finite() && (0.0..=lr0).contains(&lr_min) {
                    Ok(())
                } else {
                    Err(TrainError::invalid(
                        "schedule.lr_min",
                        lr_min,
                        format!("a value in [0, learning_rate = {lr0}]"),
                    ))
                }
            }
        }
    }

    /// The learning rate at epoch `t`.
    pub fn rate(&self, lr0: f64, t: usize) -> f64 {
        match *self {
            Self::Constant => lr0,
            Self::Step { step_size, gamma } => {
                lr0 * gamma.powi(i32::try_from(t / step_size.max(1)).unwrap_or(i32::MAX))
            }
            Self::Exponential { decay } => lr0 * decay.powi(i32::try_from(t).unwrap_or(i32::MAX)),
            Self::InverseTime { decay } => lr0 / (1.0 + decay * t as f64),
            Self::Cosine { t_max, lr_min } => {
                let t_max = t_max.max(1);
                let frac = t.min(t_max) as f64 / t_max as f64;
                lr_min + 0.5 * (lr0 - lr_min) * (1.0 + (std::f64::consts::PI * frac).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn each_schedule_follows_its_formula(lr0 in 1e-4f64..1.0, t in 0usize..500,
                                             k in 1usize..50, g in 0.01f64..1.0) {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
            prop_assert_eq!(Schedule::Constant.rate(lr0, t), lr0);
            let s = Schedule::Step { step_size: k, gamma: g };
            prop_assert!(close(s.rate(lr0, t), lr0 * g.powf((t / k) as f64)));
            let s = Schedule::Exponential { decay: g };
            prop_assert!(close(s.rate(lr0, t), lr0 * g.powf(t as f64)));
            let s = Schedule::InverseTime { decay: g };
            prop_assert!(close(s.rate(lr0, t), lr0 / (1.0 + g * t as f64)));
            let lr_min = lr0 * g * 0.5;
            let s = Schedule::Cosine { t_max: k, lr_min };
            let want = if t >= k { lr_min } else {
                lr_min + 0.5 * (lr0 - lr_min) * (1.0 + (std::f64::consts::PI * t as f64 / k as f64).cos())
            };
            prop_assert!(close(s.rate(lr0, t), want) || (s.rate(lr0, t) - want).abs() < 1e-15);
            // Rates never increase with t.
            for s in [Schedule::Step { step_size: k, gamma: g }, Schedule::Exponential { decay: g },
                      Schedule::InverseTime { decay: g }, Schedule::Cosine { t_max: k, lr_min }] {
                prop_assert!(s.rate(lr0, t + 1) <= s.rate(lr0, t) + 1e-15);
            }
        }
    }

    #[test]
    fn invalid_schedules_are_named() {
        let e = Schedule::Exponential { decay: 1.5 }
            .validate(0.1)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid schedule.decay = 1.5: expected a value in [0, 1]"
        );
        assert!(
            Schedule::Cosine {
                t_max: 10,
                lr_min: 1.0
            }
            .validate(0.1)
            .is_err()
        );
        assert!(
            Schedule::Step {
                step_size: 0,
                gamma: 0.5
            }
            .validate(0.1)
            .is_err()
        );
        let s: Schedule =
            serde_json::from_str(r#"{"kind":"step","step_size":3,"gamma":0.5}"#).unwrap();
        assert_eq!(s.rate(1.0, 7), 0.25);
    }
}
