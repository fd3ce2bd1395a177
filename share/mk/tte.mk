# tte.mk: a tte sweep as make rules: items -> generations -> scores -> fits -> figures, for every
# model and dataset of a list. A sweep is a few variables and an include (see tte-make(7)):
#
#   TTE_MODELS      := tiny l1                    names of the models (make words)
#   TTE_MODEL_tiny  := /usr/local/share/tte/models/tte-tiny-arith   a name's folder or HF id
#                                                 (default: the name itself)
#   TTE_DATASETS    := arith gsm8k                names of the datasets
#   TTE_FETCH_arith := arith --seed 0 --count 64  a name's tte-fetch arguments (default: the name;
#                                                 TTE_ITEMS_<name> := FILE uses a file of items instead)
#   TTE_BUDGETS     := 3..8                       tte-gen --budgets: a range 2^A..2^B or a list
#   TTE_SAMPLES     := 4                          tte-gen -n
#   TTE_OUT         := out                        where everything goes
#   include /usr/local/share/tte/mk/tte.mk
#
# Files, for each model M and dataset D:
#   $(TTE_OUT)/items/D.jsonl         tte-fetch
#   $(TTE_OUT)/M/D/gen.jsonl         tte-gen    (TTE_GEN_ARGS, TTE_GEN_ARGS_M add options)
#   $(TTE_OUT)/M/D/scored.jsonl      tte-score  (TTE_SCORE_ARGS)
#   $(TTE_OUT)/M/D/fits.jsonl        tte-fit    (TTE_FIT_ARGS, default --metric correct,p_gold_norm)
#   $(TTE_OUT)/M/D/curves.gp, .png   tte-plot, then gnuplot (TTE_GNUPLOT; empty: no .png)
# Targets: tte-all (the default when this is the first rule), tte-items, tte-gens, tte-scores,
# tte-fits, tte-figures, tte-clean.
#
# Safe under make -j: every file is written by its one rule through a temporary name (the tools'
# -o), so an interrupted make leaves no half file and the next make redoes only what is missing;
# jobs share the tools' cache ($TTE_CACHE), which takes concurrent writers. Each generation file
# also depends on a small .args file that holds its command's options and changes only when they
# do, so changing TTE_BUDGETS (or any option) redoes what it changes, and nothing else.

TTE_BIN      ?=
TTE_OUT      ?= out
TTE_BUDGETS  ?= 3..8
TTE_SAMPLES  ?= 1
TTE_SEED     ?= 0
TTE_THREADS  ?=
TTE_GEN_ARGS ?=
TTE_SCORE_ARGS ?=
TTE_FIT_ARGS ?= --metric correct,p_gold_norm
TTE_PLOT_ARGS ?= --figure curves
TTE_GNUPLOT  ?= $(shell command -v gnuplot 2>/dev/null)

tte_tool    = $(if $(TTE_BIN),$(TTE_BIN)/$(1),$(1))
tte_model   = $(or $(TTE_MODEL_$(1)),$(1))
tte_fetch   = $(or $(TTE_FETCH_$(1)),$(1))
tte_items   = $(or $(TTE_ITEMS_$(1)),$(TTE_OUT)/items/$(1).jsonl)
tte_threads = $(if $(TTE_THREADS),--threads $(TTE_THREADS))
tte_gen_opts = --budgets $(TTE_BUDGETS) -n $(TTE_SAMPLES) --seed $(TTE_SEED) $(tte_threads) $(TTE_GEN_ARGS) \
               $(TTE_GEN_ARGS_$(1))
tte_pairs   = $(foreach m,$(TTE_MODELS),$(foreach d,$(TTE_DATASETS),$(TTE_OUT)/$(m)/$(d)))

.PHONY: tte-all tte-items tte-gens tte-scores tte-fits tte-figures tte-clean tte-FORCE
tte-all: tte-figures
tte-items: $(foreach d,$(TTE_DATASETS),$(call tte_items,$(d)))
tte-gens: $(addsuffix /gen.jsonl,$(tte_pairs))
tte-scores: $(addsuffix /scored.jsonl,$(tte_pairs))
tte-fits: $(addsuffix /fits.jsonl,$(tte_pairs))
tte-figures: $(addsuffix /curves.gp,$(tte_pairs)) $(if $(TTE_GNUPLOT),$(addsuffix /curves.png,$(tte_pairs)))
tte-clean:
	rm -rf $(TTE_OUT)

# A file that holds TEXT and changes only when TEXT does: $(call tte_stamp,FILE,TEXT).
# (Written through a temporary name of its own, as every file here.)
define tte_stamp
	@mkdir -p $(dir $(1))
	@printf '%s\n' '$(2)' >$(1).tmp.$$$$ && \
	  if cmp -s $(1).tmp.$$$$ $(1); then rm -f $(1).tmp.$$$$; else mv -f $(1).tmp.$$$$ $(1); fi
endef

define tte_dataset_rules
$(TTE_OUT)/items/$(1).args: tte-FORCE
	$$(call tte_stamp,$$@,$(call tte_fetch,$(1)))
$(TTE_OUT)/items/$(1).jsonl: $(TTE_OUT)/items/$(1).args
	$$(call tte_tool,tte-fetch) $(call tte_fetch,$(1)) -o $$@
endef

# $(1) model, $(2) dataset.
define tte_pair_rules
$(TTE_OUT)/$(1)/$(2)/gen.args: tte-FORCE
	$$(call tte_stamp,$$@,--model $(call tte_model,$(1)) $(strip $(call tte_gen_opts,$(1))))
$(TTE_OUT)/$(1)/$(2)/gen.jsonl: $(call tte_items,$(2)) $(TTE_OUT)/$(1)/$(2)/gen.args
	$$(call tte_tool,tte-gen) --model $(call tte_model,$(1)) $(call tte_gen_opts,$(1)) -o $$@ $$<
$(TTE_OUT)/$(1)/$(2)/scored.jsonl: $(TTE_OUT)/$(1)/$(2)/gen.jsonl
	$$(call tte_tool,tte-score) --model $(call tte_model,$(1)) $(tte_threads) $(TTE_SCORE_ARGS) -o $$@ $$<
$(TTE_OUT)/$(1)/$(2)/fits.jsonl: $(TTE_OUT)/$(1)/$(2)/scored.jsonl
	$$(call tte_tool,tte-fit) $(TTE_FIT_ARGS) -o $$@ $$<
$(TTE_OUT)/$(1)/$(2)/curves.gp: $(TTE_OUT)/$(1)/$(2)/fits.jsonl
	$$(call tte_tool,tte-plot) $(TTE_PLOT_ARGS) --image $$(@:.gp=.png) -o $$@ $$<
$(TTE_OUT)/$(1)/$(2)/curves.png: $(TTE_OUT)/$(1)/$(2)/curves.gp
	$(TTE_GNUPLOT) $$<
endef

$(foreach d,$(TTE_DATASETS),$(if $(TTE_ITEMS_$(d)),,$(eval $(call tte_dataset_rules,$(d)))))
$(foreach m,$(TTE_MODELS),$(foreach d,$(TTE_DATASETS),$(eval $(call tte_pair_rules,$(m),$(d)))))
