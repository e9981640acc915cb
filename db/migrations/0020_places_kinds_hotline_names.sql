-- What kind of settlement a place is: a village, a town, a railway station or siding, or a small
-- locality (a wintering place, a farm, a point…). Search puts villages before small localities of the
-- same name, and browsing lists villages first.
ALTER TABLE villages ADD COLUMN kind TEXT NOT NULL DEFAULT 'village'
    CHECK (kind IN ('village', 'town', 'station', 'locality'));
-- The operator's hotline for homes, from the rollout plan.
ALTER TABLE villages ADD COLUMN hotline TEXT;
CREATE INDEX villages_okrug ON villages (okrug_code);

-- Buildings named in each language; the one name they had stays their key in the village.
ALTER TABLE social_objects ADD COLUMN name_kk TEXT;
ALTER TABLE social_objects ADD COLUMN name_ru TEXT;

-- Settlements imported before kinds were kept: the words their displayed names keep tell most small
-- localities apart; importing the classifier again sets every kind exactly.
UPDATE villages SET kind = 'station' WHERE name_ru LIKE 'ст.%' OR name_ru LIKE 'рзд.%';
UPDATE villages SET kind = 'locality'
 WHERE name_ru LIKE 'зимовка %' OR name_ru LIKE 'точка %' OR name_ru LIKE 'ферма%' OR name_ru LIKE 'Ферма%'
    OR name_ru LIKE 'уч.%' OR name_ru LIKE 'отг.%' OR name_ru LIKE 'кр.%' OR name_ru LIKE 'крес.%'
    OR name_ru LIKE 'поселье %' OR name_ru LIKE 'Дом %' OR name_ru LIKE 'Бригада%' OR name_ru LIKE 'Кордон%'
    OR name_ru LIKE 'МТФ%' OR name_ru LIKE 'Отд.%' OR name_ru LIKE 'Жив.%';
