# tcpmig-rulecheck (tools/tcpmig-rulecheck.c): check rule files, try payloads against them.
RULECHECK := $(O)/tcpmig-rulecheck
EXTRA_ALL += $(RULECHECK)

.PHONY: tools
tools: $(RULECHECK)
# test_rules_cli runs the tcpmig-rulecheck of its own build (plain or SAN=1).
tests: $(RULECHECK)
$(O)/tests/test_rules_cli: $(RULECHECK)

$(RULECHECK): tools/tcpmig-rulecheck.c $(LIB) $(HDRS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@";)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS_LIB)
